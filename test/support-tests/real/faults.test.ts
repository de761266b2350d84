import { describe, expect, it } from 'vitest';
import { commander, FaultScope, jumpBackward, jumpClock, jumpForward } from '../../support/faults.js';
import { type Acquisition, checkTokens } from '../../support/history.js';
import { useSharedNodes } from '../../support/real-nodes.js';

const nodes = useSharedNodes();

describe('emulated clock jumps (faults.ts)', () => {
  it('forward shortens a TTL or expires the key, backward lengthens it; keys without a TTL stay', async () => {
    const node = commander(nodes.admins[0]!);
    const [a, b, c] = [nodes.key('jump:a'), nodes.key('jump:b'), nodes.key('jump:counter')];
    await nodes.admins[0]!.set(a, 'x', 'PX', 10_000);
    await nodes.admins[0]!.set(b, 'y', 'PX', 10_000);
    await nodes.admins[0]!.set(c, '7');
    expect(await jumpForward(node, [a], 4_000)).toBe(1);
    expect(await nodes.admins[0]!.pttl(a)).toBeLessThanOrEqual(6_000);
    expect(await jumpBackward(node, [a], 20_000)).toBe(1);
    expect(await nodes.admins[0]!.pttl(a)).toBeGreaterThan(20_000);
    // By pattern: both keys with a TTL move, the counter does not.
    expect(await jumpForward(node, { match: nodes.key('jump:*') })).toBe(2);
    expect(await nodes.admins[0]!.exists(a, b)).toBe(0);
    expect(await nodes.admins[0]!.get(c)).toBe('7');
    expect(await nodes.admins[0]!.pttl(c)).toBe(-1);
    await expect(jumpClock(node, [c], Number.NaN)).rejects.toThrow(RangeError);
  });
});

describe('FaultScope', () => {
  it('undoes newest first, attempts every undo, and reports the ones that failed', async () => {
    const scope = new FaultScope();
    const order: string[] = [];
    scope.defer('first', () => {
      order.push('first');
    });
    scope.defer('broken', () => {
      throw new Error('cannot');
    });
    scope.defer('last', async () => {
      order.push('last');
    });
    await expect(scope.undoAll()).rejects.toThrow(/undo of "broken" failed: cannot/);
    expect(order).toEqual(['last', 'first']);
    await scope.undoAll();
    expect(order).toHaveLength(2);
  });
});

describe('the S2 token checker (history.ts)', () => {
  const acquisition = (client: string, token: number, invokedAt: number, start: number): Acquisition => ({
    client,
    resource: 'r',
    holder: `${client}-value`,
    invokedAt,
    start,
    end: start + 1,
    token,
    votes: 3,
    quorum: 3,
    validityMs: 100,
  });

  it('accepts increasing tokens and concurrent acquisitions in either order', () => {
    expect(
      checkTokens([
        acquisition('a', 1, 0, 10),
        acquisition('b', 3, 20, 30),
        // Began before b returned: its token may be lower than b's.
        acquisition('c', 2, 25, 40),
      ]),
    ).toEqual([]);
  });

  it('flags a duplicate token and a token below one returned before the acquisition began', () => {
    const problems = checkTokens([
      acquisition('a', 5, 0, 10),
      acquisition('b', 5, 20, 30),
      acquisition('c', 4, 40, 50),
    ]);
    expect(problems).toContain('r: token 5 issued to a and to b');
    expect(problems).toContain('r: c got token 4 after a had returned with 5');
  });
});

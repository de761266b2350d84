import { connect } from 'node:net';

/**
 * The smallest Redis client the `doctor` command needs: one connection, commands sent in one
 * write, RESP2 replies parsed in order, every step bounded by `timeoutMs`. Not for the lock path.
 */
export async function query(
  address: { host: string; port: number },
  commands: readonly (readonly string[])[],
  timeoutMs: number,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    let buffer = Buffer.alloc(0);
    const replies: unknown[] = [];
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${address.host}:${address.port} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies);
    };
    socket.on('connect', () => {
      socket.write(commands.map(encode).join(''));
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const parsed = parse(buffer, 0);
        if (parsed === undefined) return;
        replies.push(parsed.value);
        buffer = buffer.subarray(parsed.end);
        if (replies.length === commands.length) return finish();
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`connection to ${address.host}:${address.port} closed`)));
  });
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** Parse one RESP2 value at `at`; undefined when the buffer does not hold all of it yet. */
export function parse(buffer: Buffer, at: number): { value: unknown; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', at);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[at]!);
  const line = buffer.toString('utf8', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: unknown[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, end);
        if (item === undefined) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/**
 * Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its hash tag (the text between the
 * first `{` and the first `}` after it, when not empty), modulo 16384. The same rule the server
 * applies, so keys are grouped by slot before a script is sent and no call meets CROSSSLOT.
 */

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

const encoder = new TextEncoder();

/** CRC16-XMODEM of `bytes`. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The part of `key` that is hashed: its hash tag when it has a non-empty one, else all of it. */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/** The cluster slot of `key` (0..16383), hashing its UTF-8 bytes as the server does. */
export function slotOf(key: string): number {
  return crc16(encoder.encode(hashedPart(key))) % 16384;
}

/** A set of keys in one slot, with each key's index in the list it came from. */
export interface SlotGroup {
  readonly slot: number;
  readonly keys: string[];
  readonly indices: number[];
}

/** Group `keys` by slot, groups in ascending slot order (the same order for every client). */
export function groupBySlot(keys: readonly string[]): SlotGroup[] {
  const groups = new Map<number, SlotGroup>();
  keys.forEach((key, index) => {
    const slot = slotOf(key);
    let group = groups.get(slot);
    if (group === undefined) {
      group = { slot, keys: [], indices: [] };
      groups.set(slot, group);
    }
    group.keys.push(key);
    group.indices.push(index);
  });
  return [...groups.values()].sort((a, b) => a.slot - b.slot);
}

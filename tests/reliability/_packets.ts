/**
 * Self-checking packets for the reliability tests: packet `seq` has a size and content that are a
 * pure function of `(seed, seq)`, so a receiver can tell a lost, duplicated, reordered or corrupted
 * packet from a good one. Packets of 8 bytes or more also carry their sequence number and an
 * FNV-1a checksum of the rest in their first 8 bytes (little endian).
 *
 * @module
 */

/** Size in 1..maxSize of packet `seq` (deterministic, roughly uniform). */
export function sizeOf(seed: number, seq: number, maxSize = 16384): number {
  return 1 + (mix(seed ^ Math.imul(seq, 0x9e3779b1)) % maxSize);
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a over `bytes[from..]`. */
export function checksum(bytes: Uint8Array, from = 0): number {
  let h = 0x811c9dc5;
  for (let i = from; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** Builds packet `seq`. */
export function makePacket(seed: number, seq: number, maxSize = 16384): Uint8Array {
  const size = sizeOf(seed, seq, maxSize);
  const out = new Uint8Array(size);
  let x = mix(seed + seq) | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  if (size >= 8) {
    const view = new DataView(out.buffer);
    view.setUint32(0, seq, true);
    view.setUint32(4, checksum(out, 8), true);
  }
  return out;
}

/**
 * Checks that `data` is packet `seq`: returns undefined when it is, else what is wrong. Packets of
 * 8 bytes or more are checked by sequence number and checksum, shorter ones byte for byte.
 */
export function verifyPacket(
  seed: number,
  seq: number,
  data: Uint8Array,
  maxSize = 16384,
): string | undefined {
  const size = sizeOf(seed, seq, maxSize);
  if (data.length !== size) return `packet ${seq}: ${data.length} bytes, expected ${size}`;
  if (size < 8) {
    const want = makePacket(seed, seq, maxSize);
    return want.every((b, i) => b === data[i]) ? undefined : `packet ${seq}: corrupted`;
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const got = view.getUint32(0, true);
  if (got !== seq) return `expected packet ${seq}, got packet ${got}`;
  if (view.getUint32(4, true) !== checksum(data, 8)) return `packet ${seq}: checksum mismatch`;
  return undefined;
}

/**
 * MD5 (RFC 1321) as lowercase hex, for the RPC checksum SceneMultiplayer puts in SIMPLIFY_PATH
 * (Godot's `String::md5_text()` of the node's RPC names). Pure, synchronous, runs everywhere
 * (WebCrypto has no MD5).
 *
 * @module
 */

const S = [
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
];
const K = Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0,
);

/**
 * The MD5 digest of `data` (a string is taken as UTF-8) in lowercase hex.
 *
 * @example
 * ```ts
 * import { md5Hex } from "./md5.ts";
 * console.log(md5Hex("")); // d41d8cd98f00b204e9800998ecf8427e
 * ```
 */
export function md5Hex(data: string | Uint8Array): string {
  const input = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const blocks = ((input.length + 8) >>> 6) + 1;
  const msg = new Uint8Array(blocks * 64);
  msg.set(input);
  msg[input.length] = 0x80;
  const view = new DataView(msg.buffer);
  const bits = input.length * 8;
  view.setUint32(msg.length - 8, bits >>> 0, true);
  view.setUint32(msg.length - 4, Math.floor(bits / 2 ** 32), true);
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  const m = new Uint32Array(16);
  for (let off = 0; off < msg.length; off += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getUint32(off + i * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) [f, g] = [(b & c) | (~b & d), i];
      else if (i < 32) [f, g] = [(d & b) | (~d & c), (5 * i + 1) % 16];
      else if (i < 48) [f, g] = [b ^ c ^ d, (3 * i + 5) % 16];
      else [f, g] = [c ^ (b | ~d), (7 * i) % 16];
      const sum = (a + f + K[i] + m[g]) >>> 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << S[i]) | (sum >>> (32 - S[i])))) >>> 0;
    }
    a0 = (a0 + a) >>> 0;
    b0 = (b0 + b) >>> 0;
    c0 = (c0 + c) >>> 0;
    d0 = (d0 + d) >>> 0;
  }
  const out = new DataView(new ArrayBuffer(16));
  [a0, b0, c0, d0].forEach((v, i) => out.setUint32(i * 4, v, true));
  return Array.from(new Uint8Array(out.buffer), (x) => x.toString(16).padStart(2, "0")).join("");
}

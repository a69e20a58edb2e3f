/**
 * Hex helpers for the golden tests: `hex("07 01 4E")` -> bytes, `toHex(bytes)` -> "07 01 4e".
 *
 * @module
 */

/** Bytes from hex pairs; spaces and `|` separators are ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${s}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Lowercase hex pairs separated by spaces. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

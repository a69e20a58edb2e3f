/**
 * The web demo's packets (pure; shared by the page and the server-side demo peers):
 *
 * - chat, on the reliable channel: `16` then the text as UTF-8;
 * - dot, on the unreliable channel (game state, latest wins): `17`, then x and y as float32 in
 *   0..1 (big-endian);
 * - ping and pong, on the unreliable-ordered channel: `1`/`2` then a float64 timestamp (the same
 *   bytes as the terminal demo's `demo/_wire.ts`, so its peers answer too).
 *
 * @module
 */

/** Packet kinds (first byte). */
export const WebKind = { PING: 1, PONG: 2, CHAT: 16, DOT: 17 } as const;

/** The longest chat text sent, in characters (longer text is cut). */
export const MAX_CHAT = 500;

/** A decoded web demo packet. */
export type WebPacket =
  | { readonly kind: "chat"; readonly text: string }
  | { readonly kind: "dot"; readonly x: number; readonly y: number }
  | { readonly kind: "ping" | "pong"; readonly time: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a web demo packet.
 *
 * @example
 * ```ts
 * import { decodeWeb, encodeWeb } from "./protocol.ts";
 * console.log(decodeWeb(encodeWeb({ kind: "chat", text: "hé" }))); // { kind: "chat", text: "hé" }
 * console.log(encodeWeb({ kind: "dot", x: 0.5, y: 1 }).length); // 9
 * ```
 */
export function encodeWeb(packet: WebPacket): Uint8Array {
  switch (packet.kind) {
    case "chat": {
      const text = encoder.encode(packet.text.slice(0, MAX_CHAT));
      const out = new Uint8Array(1 + text.length);
      out[0] = WebKind.CHAT;
      out.set(text, 1);
      return out;
    }
    case "dot": {
      const out = new Uint8Array(9);
      out[0] = WebKind.DOT;
      const view = new DataView(out.buffer);
      view.setFloat32(1, clamp01(packet.x));
      view.setFloat32(5, clamp01(packet.y));
      return out;
    }
    case "ping":
    case "pong": {
      const out = new Uint8Array(9);
      out[0] = packet.kind === "ping" ? WebKind.PING : WebKind.PONG;
      new DataView(out.buffer).setFloat64(1, packet.time);
      return out;
    }
  }
}

/**
 * Decodes a web demo packet, or undefined for anything else (including the terminal demo's
 * numbered data packets).
 *
 * @example
 * ```ts
 * import { decodeWeb } from "./protocol.ts";
 * console.log(decodeWeb(new Uint8Array([0, 2, 0, 0, 0, 7]))); // undefined
 * ```
 */
export function decodeWeb(bytes: Uint8Array): WebPacket | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (bytes[0]) {
    case WebKind.CHAT:
      try {
        return { kind: "chat", text: decoder.decode(bytes.subarray(1)) };
      } catch {
        return undefined;
      }
    case WebKind.DOT: {
      if (bytes.length !== 9) return undefined;
      const x = view.getFloat32(1);
      const y = view.getFloat32(5);
      if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) return undefined;
      return { kind: "dot", x, y };
    }
    case WebKind.PING:
    case WebKind.PONG:
      if (bytes.length !== 9) return undefined;
      return { kind: bytes[0] === WebKind.PING ? "ping" : "pong", time: view.getFloat64(1) };
    default:
      return undefined;
  }
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

/**
 * A stable colour for a peer id (HSL hue from the id), used for its dot and its name.
 *
 * @example
 * ```ts
 * import { peerColor } from "./protocol.ts";
 * console.log(peerColor(1) === peerColor(1)); // true
 * ```
 */
export function peerColor(id: number): string {
  const h = mix(id);
  const hue = Math.round((h & 0xffff) / 65536 * 360);
  const lightness = 48 + ((h >>> 16) % 3) * 6;
  return `hsl(${hue} 72% ${lightness}%)`;
}

/** A 32-bit integer hash (MurmurHash3's finalizer): spreads nearby and random ids alike. */
function mix(id: number): number {
  let h = id >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Where a demo peer's dot is at time `t` (ms) when nobody steers it: a slow Lissajous curve,
 * different for every id.
 *
 * @example
 * ```ts
 * import { driftPosition } from "./protocol.ts";
 * const { x, y } = driftPosition(5, 1000);
 * console.log(x >= 0 && x <= 1 && y >= 0 && y <= 1); // true
 * ```
 */
export function driftPosition(id: number, t: number): { x: number; y: number } {
  const h = mix(id);
  const px = (h & 0xffff) / 65536 * Math.PI * 2;
  const py = (h >>> 16) / 65536 * Math.PI * 2;
  const speed = 0.7 + (h % 7) / 10;
  const s = t / 1000;
  return {
    x: 0.5 + 0.4 * Math.sin(s * speed + px),
    y: 0.5 + 0.4 * Math.sin(s * speed * 1.37 + py),
  };
}

/**
 * An upper bound of a reliable channel's `bufferedAmount`, kept in JavaScript so that the
 * back-pressure check (core/route.ts `admit`) needs the stack's own number only when the bound
 * could pass the high-water mark. Like the cached max message size, it is a cache of a stack fact,
 * not a rule: the decision stays `admit`'s.
 *
 * Why it is exact: a channel's `bufferedAmount` grows only through `send` on that channel, and the
 * stack only lowers it (W3C, "bufferedAmount"). So the number last read plus the bytes of every
 * send since is never below the stack's number, and `admit` is monotone in the buffered amount: when
 * it admits a packet with the bound it would admit it with the stack's number. When it refuses with
 * the bound, the stack's number is read and decides (and the bound starts again from it).
 *
 * For the bound to hold, every send on the channel must be counted: `putPacket`'s, the reconnect
 * journal's resends and the application's own, on the channels `getPeer(id).channels` hands out.
 * So the channel's own `send` is wrapped (an own property over the prototype's method): every caller
 * of `channel.send(...)` goes through it. A payload whose size is not known (not bytes, a string or a
 * Blob) makes the bound unknown, so the next check reads the stack's number. A Blob stays counted
 * after reads (see `#blobs`).
 *
 * @module
 */
import type { Refused } from "../core/route.ts";
import { admit } from "../core/route.ts";
import { GodotError } from "../core/constants.ts";
import type { ChannelIndex } from "../core/state.ts";
import type { RTCDataChannelLike } from "./w3c.ts";

/** The bytes `bufferedAmount` counts for `data` (W3C: a string's UTF-8 length), else Infinity. */
export function sizeOf(data: unknown): number {
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (typeof data === "string") return utf8Length(data);
  if (isBlob(data)) return data.size;
  if (typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer) {
    return data.byteLength;
  }
  return Infinity;
}

function isBlob(data: unknown): data is Blob {
  return typeof Blob === "function" && data instanceof Blob;
}

/** The UTF-8 length of `s` (a lone surrogate is encoded as U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let n = s.length; // one byte per UTF-16 unit, then the extra bytes
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a pair: 2 units, 4 bytes
        i++;
        continue;
      }
      n += 2;
    } else n += 2;
  }
  return n;
}

/** The upper bound of one channel's `bufferedAmount`; see the module's doc. */
export class BufferedBound {
  /** The stack's number last read plus the bytes sent since (Infinity: unknown). */
  #upper = 0;
  /**
   * Bytes of Blobs sent: node-datachannel's polyfill reads a Blob asynchronously and only then
   * sends it, so a read in between does not count it yet. They stay in the bound for good (an
   * over-estimate: at worst a read per packet, as without the bound).
   */
  #blobs = 0;
  /** How many times the stack's number was read (for tests and profiles). */
  reads = 0;
  readonly #channel: RTCDataChannelLike;

  /** Counts every `send` on `channel` from now on (a new channel's `bufferedAmount` is 0). */
  constructor(channel: RTCDataChannelLike) {
    this.#channel = channel;
    const send = channel.send;
    // Counted before the stack's call: a send that throws only makes the bound higher (safe).
    channel.send = (data: Uint8Array) => {
      const size = sizeOf(data);
      this.#upper += size;
      if (isBlob(data)) this.#blobs += size;
      return send.call(channel, data);
    };
  }

  /** The current upper bound. */
  get upper(): number {
    return this.#upper;
  }

  /** Reads the stack's number (a native call) and starts the bound again from it. */
  read(): number {
    this.reads++;
    const buffered = this.#channel.bufferedAmount;
    this.#upper = buffered + this.#blobs;
    return buffered;
  }
}

/**
 * `admit` for a reliable channel whose `bufferedAmount` is bounded by `bound`: the same answer as
 * `admit` with the stack's number read now, reading it only when the bound is refused as busy.
 */
export function admitBounded(
  bound: BufferedBound,
  size: number,
  maxMessageSize: number,
  channel: ChannelIndex,
  highWaterMark: number,
  peerId: number,
): Refused | undefined {
  const refused = admit(size, maxMessageSize, channel, bound.upper, highWaterMark, peerId, true);
  if (refused?.error !== GodotError.ERR_BUSY) return refused;
  return admit(size, maxMessageSize, channel, bound.read(), highWaterMark, peerId, true);
}

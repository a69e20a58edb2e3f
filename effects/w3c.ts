/**
 * The W3C WebRTC shapes the mesh works with. The browser's `RTCPeerConnection`,
 * node-datachannel's polyfill and a test fake all fit them.
 *
 * @module
 */

/** A listener as `addEventListener` takes it. */
export type Listener = (event: Event) => void;

/** `RTCDataChannelInit` as far as the mesh uses it. */
export interface DataChannelInitLike {
  negotiated?: boolean;
  id?: number;
  ordered?: boolean;
  maxPacketLifeTime?: number;
  maxRetransmits?: number;
  protocol?: string;
}

/** The W3C `RTCDataChannel` shape. */
export interface RTCDataChannelLike {
  readonly label: string;
  readonly id: number | null;
  readonly ordered: boolean;
  readonly maxPacketLifeTime: number | null;
  readonly readyState: string;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: Uint8Array): void;
  close(): void;
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
}

/** The W3C `RTCPeerConnection` shape the mesh needs. */
export interface RTCPeerConnectionLike {
  readonly connectionState: string;
  /** `RTCSctpTransport`, whose `maxMessageSize` bounds a packet; absent before negotiation. */
  readonly sctp?: { readonly maxMessageSize: number } | null;
  createDataChannel(label: string, init?: DataChannelInitLike): RTCDataChannelLike;
  close(): void;
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
}

/**
 * Whether `value` has the W3C `RTCPeerConnection` shape: an object with a string
 * `connectionState` and the methods `createDataChannel`, `close`, `addEventListener` and
 * `removeEventListener`.
 *
 * @example
 * ```ts
 * import { isPeerConnectionLike } from "./w3c.ts";
 * console.log(isPeerConnectionLike({})); // false
 * console.log(isPeerConnectionLike(null)); // false
 * ```
 */
export function isPeerConnectionLike(value: unknown): value is RTCPeerConnectionLike {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  try {
    return typeof v.connectionState === "string" &&
      typeof v.createDataChannel === "function" &&
      typeof v.close === "function" &&
      typeof v.addEventListener === "function" &&
      typeof v.removeEventListener === "function";
  } catch {
    // A getter that throws (a closed native handle, a hostile proxy) is not a usable connection.
    return false;
  }
}

/**
 * The W3C WebRTC shapes the mesh works with. The browser's `RTCPeerConnection`,
 * node-datachannel's polyfill and a test fake all fit them.
 *
 * @module
 */

/** A listener as `addEventListener` takes it. */
export type Listener = (event: Event) => void;

/**
 * A listener function or object: the DOM's `EventListenerOrEventListenerObject`, spelled out so
 * that projects without the DOM library (Node) can use the mesh's types.
 */
export type ListenerOrObject = Listener | { handleEvent(event: Event): void };

/** The options of `addEventListener`: the DOM's `AddEventListenerOptions`, spelled out. */
export interface ListenerOptions {
  /** Listen in the capture phase (no effect on the mesh's events). */
  capture?: boolean;
  /** Remove the listener after its first call. */
  once?: boolean;
  /** The listener will not call `preventDefault()`. */
  passive?: boolean;
  /** Remove the listener when this signal aborts. */
  signal?: AbortSignal;
}

/** `RTCDataChannelInit` as far as the mesh uses it. */
export interface DataChannelInitLike {
  /** Whether both sides create the channel themselves with the same `id` (no in-band announcement). */
  negotiated?: boolean;
  /** The SCTP stream id (required when `negotiated`). */
  id?: number;
  /** Whether messages arrive in the order they were sent. */
  ordered?: boolean;
  /** Milliseconds a message may be retransmitted before it is given up (partial reliability). */
  maxPacketLifeTime?: number;
  /** How many times a message may be retransmitted before it is given up (partial reliability). */
  maxRetransmits?: number;
  /** Sub-protocol name. */
  protocol?: string;
}

/** The W3C `RTCDataChannel` shape. */
export interface RTCDataChannelLike {
  /** The channel's label (`"reliable"`, `"ordered"` or `"unreliable"` for the mesh's channels). */
  readonly label: string;
  /** The SCTP stream id, or null before it is assigned. */
  readonly id: number | null;
  /** Whether messages arrive in the order they were sent. */
  readonly ordered: boolean;
  /** The retransmission time limit in milliseconds, or null for a reliable channel. */
  readonly maxPacketLifeTime: number | null;
  /** `"connecting"`, `"open"`, `"closing"` or `"closed"`. */
  readonly readyState: string;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** How binary messages are delivered; the mesh sets `"arraybuffer"`. */
  binaryType: string;
  /** Sends one message. */
  send(data: Uint8Array): void;
  /** Closes the channel. */
  close(): void;
  /** Listens for `open`, `close`, `error` and `message`. */
  addEventListener(type: string, listener: Listener): void;
  /** Removes a listener added with `addEventListener`. */
  removeEventListener(type: string, listener: Listener): void;
}

/** The W3C `RTCPeerConnection` shape the mesh needs. */
export interface RTCPeerConnectionLike {
  /** `"new"`, `"connecting"`, `"connected"`, `"disconnected"`, `"failed"` or `"closed"`. */
  readonly connectionState: string;
  /** `RTCSctpTransport`, whose `maxMessageSize` bounds a packet; absent before negotiation. */
  readonly sctp?: { readonly maxMessageSize: number } | null;
  /**
   * Not W3C, optional: resolves once the stack has really closed the connection after `close()`
   * (the node-datachannel adapter closes the native connection a little later). `whenClosed()`
   * waits for it.
   */
  whenNativeClosed?(): Promise<void>;
  /** Creates a data channel on this connection. */
  createDataChannel(label: string, init?: DataChannelInitLike): RTCDataChannelLike;
  /** Closes the connection and its channels. */
  close(): void;
  /** Listens for `connectionstatechange` (and the connection's other events). */
  addEventListener(type: string, listener: Listener): void;
  /** Removes a listener added with `addEventListener`. */
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

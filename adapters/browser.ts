/**
 * The browser adapter: the browser's own `RTCPeerConnection`.
 *
 * @module
 */
import type { RTCPeerConnectionLike } from "../effects/w3c.ts";
import type { PeerConnectionConfig, SignalingPeerConnection } from "./loopback.ts";

export {
  CandidateQueue,
  connectPair,
  type IceCandidateLike,
  type IceServer,
  type PeerConnectionConfig,
  type SessionDescriptionLike,
  type SignalingPeerConnection,
} from "./loopback.ts";

/** A browser connection: usable by the mesh and by signaling. */
export type BrowserPeerConnection = RTCPeerConnectionLike & SignalingPeerConnection;

/**
 * Creates the browser's native `RTCPeerConnection`. Throws outside a browser (no global
 * `RTCPeerConnection`).
 *
 * @example
 * ```ts
 * import { createPeerConnection } from "./browser.ts";
 * if ("RTCPeerConnection" in globalThis) {
 *   const pc = createPeerConnection();
 *   pc.close();
 * }
 * ```
 */
export function createPeerConnection(config: PeerConnectionConfig = {}): BrowserPeerConnection {
  const ctor = (globalThis as { RTCPeerConnection?: new (config: object) => unknown })
    .RTCPeerConnection;
  if (typeof ctor !== "function") {
    throw new TypeError("This runtime has no RTCPeerConnection; use the node-datachannel adapter");
  }
  return new ctor(config) as BrowserPeerConnection;
}

/**
 * The node-datachannel adapter: W3C `RTCPeerConnection`s backed by libdatachannel, for Deno and
 * Node.
 *
 * @module
 */
import { RTCPeerConnection } from "node-datachannel/polyfill";
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

/** A node-datachannel connection: usable by the mesh and by signaling. */
export type NodePeerConnection = RTCPeerConnectionLike & SignalingPeerConnection;

/**
 * Creates a W3C `RTCPeerConnection` backed by node-datachannel.
 *
 * @example
 * ```ts
 * import { createPeerConnection } from "./node_datachannel.ts";
 * const pc = createPeerConnection({ iceServers: [] });
 * console.log(pc.connectionState); // new
 * pc.close();
 * ```
 */
export function createPeerConnection(config: PeerConnectionConfig = {}): NodePeerConnection {
  // deno-lint-ignore no-explicit-any
  return new RTCPeerConnection(config as any) as unknown as NodePeerConnection;
}

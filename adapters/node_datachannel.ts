/**
 * The node-datachannel adapter: W3C `RTCPeerConnection`s backed by libdatachannel, for Deno and
 * Node.
 *
 * @module
 */
import { RTCPeerConnection } from "node-datachannel/polyfill";
import type { RTCPeerConnectionLike } from "../effects/w3c.ts";
import type { SignalingPeerConnection } from "./loopback.ts";

export { CandidateQueue, connectPair } from "./loopback.ts";

/** An ICE server as `RTCConfiguration.iceServers` lists it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** The parts of `RTCConfiguration` the adapters pass on. */
export interface PeerConnectionConfig {
  /** STUN/TURN servers. Default none (host candidates only, enough on a LAN or loopback). */
  iceServers?: IceServer[];
}

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

/**
 * The interpreter and its facades: `WebRTCMultiplayer` (Godot 3), `WebRTCMultiplayerPeer`
 * (Godot 4), and the W3C shapes they accept.
 *
 * @module
 */
export {
  type LastError,
  type LivenessOptions,
  type MeshOptions,
  type MeshStats,
  MultiplayerInterpreter,
  type PeerInfo,
  type PeerStats,
  WebRTCMultiplayer,
  type WebRTCMultiplayerEventMap,
} from "./multiplayer.ts";
export {
  type ChannelPacket,
  GODOT_MAX_PACKET_SIZE,
  WebRTCMultiplayerPeer,
  type WebRTCMultiplayerPeerEventMap,
} from "./multiplayer_peer.ts";
export { type Packet } from "./inbox.ts";
export {
  type CandidateInfo,
  type CandidatePair,
  pairTypes,
  readSelectedPair,
  selectedPairOf,
} from "./candidate_pair.ts";
export * from "./w3c.ts";
export { TypedEventTarget } from "./typed_event_target.ts";

/**
 * The interpreter: `WebRTCMultiplayer` and the W3C shapes it accepts.
 *
 * @module
 */
export {
  type LastError,
  type MeshOptions,
  type MeshStats,
  type PeerInfo,
  type PeerStats,
  WebRTCMultiplayer,
  type WebRTCMultiplayerEventMap,
} from "./multiplayer.ts";
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

/**
 * What the mesh API hands back: a peer's dictionary ({@link PeerInfo}), the last call's result
 * ({@link LastError}), the traffic counters ({@link MeshStats}, {@link PeerStats}) and the signals
 * of the Godot 3 facade ({@link WebRTCMultiplayerEventMap}).
 *
 * @module
 */
import type { GodotError } from "../core/constants.ts";
import type { LivenessCapability } from "../core/liveness.ts";
import type { CandidatePair } from "./candidate_pair.ts";
import type { RTCDataChannelLike, RTCPeerConnectionLike } from "./w3c.ts";

/** What {@link WebRTCMultiplayer.getPeer} returns: Godot's peer dictionary. */
export interface PeerInfo {
  /** The connection passed to `addPeer`. */
  readonly connection: RTCPeerConnectionLike;
  /**
   * The `[reliable, ordered, unreliable]` channels, then Godot 4's extra channels. The reliable
   * ones have an own `send` that counts the bytes for the back-pressure check (so sends made here
   * count towards `highWaterMark`) and calls the stack's.
   */
  readonly channels: readonly [
    RTCDataChannelLike,
    RTCDataChannelLike,
    RTCDataChannelLike,
    ...RTCDataChannelLike[],
  ];
  /** Whether the connection is connected and all its channels are open. */
  readonly connected: boolean;
}

/** Why the last call failed, or `OK`. */
export interface LastError {
  /** The result of the last call. */
  readonly error: GodotError;
  /** Human-readable reason; empty for `OK`. */
  readonly message: string;
}

/** Traffic counters of one peer. */
export interface PeerStats {
  /** Packets from this peer waiting to be read. */
  readonly queued: number;
  /** Packets received from this peer. */
  readonly received: number;
  /** Packets from this peer dropped because its queue was full. */
  readonly dropped: number;
  /** Packets sent to this peer. */
  readonly sent: number;
  /**
   * How this peer's departure is detected: `"beacons"` (it runs liveness: gone after `timeoutMs` of
   * silence), `"probing"` (not known yet), `"transport"` (no liveness on its side, e.g. a Godot peer,
   * or liveness off: only its connection state removes it). Absent for a peer no longer in the mesh.
   */
  readonly departure?: LivenessCapability;
  /**
   * Broadcast packets this peer did not get because its reliable channel was over the high-water
   * mark (the others got them). An app that needs every packet there disconnects or resyncs it.
   */
  readonly busy: number;
  /**
   * The ICE candidate pair the connection selected (host, srflx, prflx or relay on each end), read
   * from the stack's stats once the peer connected; undefined before or where the stack has none.
   */
  readonly candidatePair?: CandidatePair;
}

/** What {@link WebRTCMultiplayer.stats} returns. */
export interface MeshStats {
  /** Packets waiting to be read, all peers. */
  readonly queued: number;
  /** Packets received, all peers. */
  readonly received: number;
  /** Packets dropped because a peer's queue was full, all peers. */
  readonly dropped: number;
  /** Packets sent, all peers. */
  readonly sent: number;
  /** Per-peer counters, for every current peer and every peer with queued packets. */
  readonly peers: ReadonlyMap<number, PeerStats>;
}

/** The signals of the mesh and their event types. */
export interface WebRTCMultiplayerEventMap {
  /** A peer is connected (all three channels open); `detail` is its id. */
  peer_connected: CustomEvent<number>;
  /** An announced peer left; `detail` is its id. */
  peer_disconnected: CustomEvent<number>;
  /** Reconnect on: a peer went silent (or its connection "disconnected"); `detail` is its id. */
  peer_interrupted: CustomEvent<number>;
  /** Reconnect on: an interrupted peer is heard from again; `detail` is its id. */
  peer_resumed: CustomEvent<number>;
  /** Server compatibility: peer 1 connected. */
  connection_succeeded: CustomEvent<undefined>;
  /** Server compatibility: peer 1 left. */
  server_disconnected: CustomEvent<undefined>;
}

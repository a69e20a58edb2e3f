/**
 * The mesh's state as plain, readonly data.
 *
 * @module
 */
import { ConnectionStatus, TransferMode } from "./constants.ts";
import { LIVENESS_OFF, type LivenessState } from "./liveness.ts";

/** W3C `RTCPeerConnection.connectionState` values. */
export type PeerConnectionState =
  | "new"
  | "connecting"
  | "connected"
  | "disconnected"
  | "failed"
  | "closed";

/** Every `PeerConnectionState`, in lifecycle order. */
export const PEER_CONNECTION_STATES: readonly PeerConnectionState[] = [
  "new",
  "connecting",
  "connected",
  "disconnected",
  "failed",
  "closed",
];

/**
 * Whether a connection in `state` is over: `"disconnected"`, `"failed"` or `"closed"`. The mesh
 * removes a peer whose connection reaches one of them (SPEC rule 5).
 *
 * @example
 * ```ts
 * import { isConnectionEnded } from "./state.ts";
 * console.log(isConnectionEnded("failed"), isConnectionEnded("connecting")); // true false
 * ```
 */
export function isConnectionEnded(state: string): boolean {
  return state === "disconnected" || state === "failed" || state === "closed";
}

/** W3C `RTCDataChannel.readyState` values. */
export type ChannelState = "connecting" | "open" | "closing" | "closed";

/** Every `ChannelState`, in lifecycle order. */
export const CHANNEL_STATES: readonly ChannelState[] = ["connecting", "open", "closing", "closed"];

/**
 * Index of a peer's channel: 0 reliable, 1 ordered, 2 unreliable (the reserved channels), then
 * `3 + i` for the extra channel `channelsConfig[i]` of a Godot 4 peer (SCTP id `4 + i`).
 */
export type ChannelIndex = number;

/** The number of reserved channels every peer has (reliable, ordered, unreliable). */
export const RESERVED_CHANNELS = 3;

/**
 * Godot 4's network mode: `"none"` until `createMesh`/`createServer`/`createClient` (and always,
 * for a Godot 3 `WebRTCMultiplayer`, whose `initialize` has no mode).
 */
export type NetworkMode = "none" | "mesh" | "server" | "client";

/** What the mesh knows about one peer. */
export interface PeerState {
  /** The peer's id (1..2147483647). */
  readonly id: number;
  /** `maxPacketLifeTime` of the ordered and unreliable channels, in milliseconds. */
  readonly lifetime: number;
  /** Last observed state of the peer's connection. */
  readonly connectionState: PeerConnectionState;
  /** Last observed state of the reliable, ordered and unreliable channels, then the extra ones. */
  readonly channels: readonly ChannelState[];
  /** Whether `peer_connected` was emitted for this peer (and `peer_disconnected` is owed). */
  readonly announced: boolean;
}

/** The whole mesh: everything the lifecycle rules decide on. */
export interface MeshState {
  /** Our own id; 0 until `initialize`. */
  readonly uniqueId: number;
  /** `serverCompatibility` given to `initialize`. */
  readonly serverCompatibility: boolean;
  /** Godot's connection status. */
  readonly status: ConnectionStatus;
  /** When true, `addPeer` is refused. */
  readonly refuseNewConnections: boolean;
  /** Channel used by `putPacket`. */
  readonly transferMode: TransferMode;
  /** 0 broadcast, > 0 one peer, < 0 everyone but `-targetPeer`. */
  readonly targetPeer: number;
  /** Peers by id, in the order they were added. */
  readonly peers: ReadonlyMap<number, PeerState>;
  /** Liveness settings and per-peer bookkeeping (core/liveness.ts). */
  readonly liveness: LivenessState;
  /** Which API drives this state: Godot 3's `WebRTCMultiplayer` or Godot 4's `WebRTCMultiplayerPeer`. */
  readonly godot: 3 | 4;
  /** Godot 4's network mode (`"none"` for Godot 3). */
  readonly network: NetworkMode;
  /** Godot 4's `channelsConfig`: the transfer mode of each extra channel (empty for Godot 3). */
  readonly channelsConfig: readonly TransferMode[];
  /** Godot 4's `transferChannel`: 0 the reserved channel of `transferMode`, n extra channel n-1. */
  readonly transferChannel: number;
  /** Godot 4: how many peers were added so far; a peer's turn in the receive round-robin. */
  readonly added: number;
}

/**
 * The state of a new mesh: not initialized, no peers, reliable broadcast.
 *
 * @example
 * ```ts
 * import { initialState } from "./state.ts";
 * console.log(initialState.uniqueId, initialState.peers.size); // 0 0
 * ```
 */
export const initialState: MeshState = Object.freeze({
  uniqueId: 0,
  serverCompatibility: false,
  status: ConnectionStatus.DISCONNECTED,
  refuseNewConnections: false,
  transferMode: TransferMode.RELIABLE,
  targetPeer: 0,
  peers: new Map<number, PeerState>(),
  liveness: LIVENESS_OFF,
  godot: 3,
  network: "none",
  channelsConfig: Object.freeze([]),
  transferChannel: 0,
  added: 0,
});

/**
 * The state of a new Godot 4 `WebRTCMultiplayerPeer`: network mode `"none"`, no peers.
 *
 * @example
 * ```ts
 * import { initialGodot4State } from "./state.ts";
 * console.log(initialGodot4State.godot, initialGodot4State.network); // 4 none
 * ```
 */
export const initialGodot4State: MeshState = Object.freeze({ ...initialState, godot: 4 });

/**
 * Whether a peer counts as connected (SPEC rule 4): its connection is `"connected"` and all its
 * channels (the three reserved ones and Godot 4's extra ones) are `"open"`.
 *
 * @example
 * ```ts
 * import { isPeerReady } from "./state.ts";
 * console.log(isPeerReady({
 *   id: 2, lifetime: 1, connectionState: "connected",
 *   channels: ["open", "open", "open"], announced: false,
 * })); // true
 * ```
 */
export function isPeerReady(peer: PeerState): boolean {
  if (peer.connectionState !== "connected") return false;
  const channels = peer.channels;
  for (let i = 0; i < channels.length; i++) if (channels[i] !== "open") return false;
  return true;
}

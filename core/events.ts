/**
 * Reducer inputs: requests (API calls) and observations (what the WebRTC stack reported).
 * Plain, readonly, comparable data: peer ids, never connection objects.
 *
 * @module
 */
import type { ChannelIndex, ChannelState, PeerConnectionState } from "./state.ts";

/**
 * Godot 4: `createMesh(id, channelsConfig)`, `createServer(channelsConfig)` (id 1) or
 * `createClient(id, channelsConfig)` was called.
 */
export interface CreateRequested {
  /** Discriminant. */
  readonly type: "CreateRequested";
  /** The network mode asked for. */
  readonly network: "mesh" | "server" | "client";
  /** Our own id (1 for a server). */
  readonly peerId: number;
  /** The `channelsConfig` passed (validated by the reducer: TransferMode values). */
  readonly channelsConfig: unknown;
}

/** Godot 4: `disconnectPeer(peerId, force)` was called. */
export interface DisconnectPeerRequested {
  /** Discriminant. */
  readonly type: "DisconnectPeerRequested";
  /** The id passed. */
  readonly peerId: number;
  /** `true`: removed at once, no signal; `false`: its connection is closed and the removal follows. */
  readonly force: unknown;
}

/** Godot 4: `transferChannel` was assigned. */
export interface TransferChannelSet {
  /** Discriminant. */
  readonly type: "TransferChannelSet";
  /** The value assigned (validated by the reducer). */
  readonly value: unknown;
}

/** `initialize(peerId, serverCompatibility)` was called. */
export interface InitializeRequested {
  /** Discriminant. */
  readonly type: "InitializeRequested";
  /** The id passed to `initialize`. */
  readonly peerId: number;
  /** The `serverCompatibility` flag passed to `initialize`. */
  readonly serverCompatibility: boolean;
}

/** What the interpreter saw of the connection object passed to `addPeer`. */
export interface ObservedConnection {
  /** Whether it has the W3C `RTCPeerConnection` shape. */
  readonly w3c: boolean;
  /** Its `connectionState` when it was added (meaningful only when `w3c`). */
  readonly state: string;
  /** A short description of what was passed, for error messages (e.g. `"null"`, `"RTCPeerConnection"`). */
  readonly description: string;
}

/** `addPeer(connection, peerId, lifetime)` was called. */
export interface AddPeerRequested {
  /** Discriminant. */
  readonly type: "AddPeerRequested";
  /** The id passed to `addPeer`. */
  readonly peerId: number;
  /** The `unreliableLifetime` passed to `addPeer` (ms). */
  readonly lifetime: number;
  /** What the passed connection looked like. */
  readonly connection: ObservedConnection;
}

/** `removePeer(peerId)` was called. */
export interface RemovePeerRequested {
  /** Discriminant. */
  readonly type: "RemovePeerRequested";
  /** The id passed to `removePeer`. */
  readonly peerId: number;
}

/** `close()` was called. */
export interface CloseRequested {
  /** Discriminant. */
  readonly type: "CloseRequested";
}

/** `refuseNewConnections` was assigned. */
export interface RefuseNewConnectionsSet {
  /** Discriminant. */
  readonly type: "RefuseNewConnectionsSet";
  /** The value assigned (validated by the reducer). */
  readonly value: unknown;
}

/** `transferMode` was assigned. */
export interface TransferModeSet {
  /** Discriminant. */
  readonly type: "TransferModeSet";
  /** The value assigned (validated by the reducer). */
  readonly value: unknown;
}

/** `targetPeer` was assigned. */
export interface TargetPeerSet {
  /** Discriminant. */
  readonly type: "TargetPeerSet";
  /** The value assigned (validated by the reducer). */
  readonly value: unknown;
}

/** A peer's connection reported a new `connectionState`. */
export interface ConnectionStateChanged {
  /** Discriminant. */
  readonly type: "ConnectionStateChanged";
  /** The peer concerned. */
  readonly peerId: number;
  /** The new `connectionState`. */
  readonly state: PeerConnectionState;
  /** The interpreter's clock (ms, monotonic), for liveness rule L9; absent in older callers. */
  readonly now?: number;
}

/** One of a peer's channels reported a new `readyState` (`open`/`close` events). */
export interface ChannelStateChanged {
  /** Discriminant. */
  readonly type: "ChannelStateChanged";
  /** The peer concerned. */
  readonly peerId: number;
  /** Which of the peer's channels (0 reliable, 1 ordered, 2 unreliable, 3+ extra). */
  readonly channel: ChannelIndex;
  /** The new `readyState`. */
  readonly state: ChannelState;
}

/** One of a peer's channels fired `error`. */
export interface ChannelErrored {
  /** Discriminant. */
  readonly type: "ChannelErrored";
  /** The peer concerned. */
  readonly peerId: number;
  /** Which of the peer's channels (0 reliable, 1 ordered, 2 unreliable, 3+ extra). */
  readonly channel: ChannelIndex;
  /** The error's message. */
  readonly message: string;
}

/** `createDataChannel` threw while the channels of a just-added peer were made. */
export interface ChannelCreateFailed {
  /** Discriminant. */
  readonly type: "ChannelCreateFailed";
  /** The peer concerned. */
  readonly peerId: number;
  /** What `createDataChannel` threw. */
  readonly message: string;
}

/**
 * A resend under way (reconnect rule R5) lost a message it still owed: the peer's journal went over
 * `reconnect.journalBytes` while the new connection's channels were not all open, and its oldest
 * messages were dropped (reconnect rule R7).
 */
export interface JournalOverflowed {
  /** Discriminant. */
  readonly type: "JournalOverflowed";
  /** The peer concerned. */
  readonly peerId: number;
}

/** Every event the reducer accepts. */
export type Event =
  | InitializeRequested
  | AddPeerRequested
  | RemovePeerRequested
  | CloseRequested
  | RefuseNewConnectionsSet
  | TransferModeSet
  | TargetPeerSet
  | ConnectionStateChanged
  | ChannelStateChanged
  | ChannelErrored
  | ChannelCreateFailed
  | JournalOverflowed
  | LivenessChannelOpened
  | LivenessChannelClosed
  | BeaconsReceived
  | TimePassed
  | ReplacePeerRequested
  | CreateRequested
  | DisconnectPeerRequested
  | TransferChannelSet;

/**
 * Events that report what the WebRTC stack did about one peer (queued until `poll()` when
 * `autoPoll` is off). Beacons are reported one by one as {@link BeaconReceipt}s and reduced in
 * batches (`BeaconsReceived`).
 */
export type Observation =
  | ConnectionStateChanged
  | ChannelStateChanged
  | ChannelErrored
  | LivenessChannelOpened
  | LivenessChannelClosed;

/** The liveness channel of a peer opened (liveness rule L2). */
export interface LivenessChannelOpened {
  /** Discriminant. */
  readonly type: "LivenessChannelOpened";
  /** The peer concerned. */
  readonly peerId: number;
  /** The interpreter's clock (ms, monotonic). */
  readonly now: number;
}

/** The liveness channel of a peer closed, or could not be made (liveness rule L3). */
export interface LivenessChannelClosed {
  /** Discriminant. */
  readonly type: "LivenessChannelClosed";
  /** The peer concerned. */
  readonly peerId: number;
  /** The interpreter's clock (ms, monotonic). */
  readonly now: number;
}

/** One beacon as it arrived on a peer's liveness channel (liveness rules L3, L4, L6). */
export interface BeaconReceipt {
  /** The peer concerned. */
  readonly peerId: number;
  /** What it said. */
  readonly kind: "hello" | "beat" | "bye";
  /** The interpreter's clock when it arrived (ms, monotonic). */
  readonly now: number;
  /**
   * The peer's received counts per reliable channel, when the beacon carries them (reconnect rule
   * R1, core/reconnect.ts).
   */
  readonly counts?: readonly number[];
  /**
   * Our journal of that peer per reliable channel, `[base, end]`: the count of the first message
   * still kept and of the messages sent; absent while nothing is journaled (rules R2, R5).
   */
  readonly journal?: ReadonlyArray<readonly [number, number]>;
}

/**
 * Beacons arrived on peers' liveness channels, in arrival order: every beacon received in one turn
 * of the interpreter's event loop (or queued for one `poll()`) is one reducer step, not one each.
 * The interpreter reduces them before any later event, so the order of events is kept; the step
 * gives the state and effects of the receipts reduced one by one (core/liveness.ts,
 * `beaconsReceived`).
 */
export interface BeaconsReceived {
  /** Discriminant. */
  readonly type: "BeaconsReceived";
  /** The beacons, oldest first. */
  readonly receipts: readonly BeaconReceipt[];
}

/**
 * `replacePeer(connection, peerId)` was called: a fresh connection for an interrupted peer
 * (reconnect rule R3, core/reconnect.ts).
 */
export interface ReplacePeerRequested {
  /** Discriminant. */
  readonly type: "ReplacePeerRequested";
  /** The id passed. */
  readonly peerId: number;
  /** What the passed connection looked like. */
  readonly connection: ObservedConnection;
  /** The interpreter's clock (ms, monotonic). */
  readonly now: number;
}

/**
 * The interpreter's one timer fired for the state's deadline (`livenessDeadline`), or `poll()` ran
 * past it. `heard` is, per peer, when its latest data message (channels 1-3) arrived, for every peer
 * heard from since the previous `TimePassed` (liveness rule L4); `sent`, likewise, when our latest
 * data message to it was sent (rule L2's beat skipping).
 */
export interface TimePassed {
  /** Discriminant. */
  readonly type: "TimePassed";
  /** The interpreter's clock (ms, monotonic). */
  readonly now: number;
  /** `[peerId, when]` of the latest data message of each peer heard from. */
  readonly heard: ReadonlyArray<readonly [number, number]>;
  /** `[peerId, when]` of our latest data message to each peer sent to (absent: none). */
  readonly sent?: ReadonlyArray<readonly [number, number]>;
}

/**
 * Reducer inputs: requests (API calls) and observations (what the WebRTC stack reported).
 * Plain, readonly, comparable data: peer ids, never connection objects.
 *
 * @module
 */
import type { ChannelIndex, ChannelState, PeerConnectionState } from "./state.ts";

/** `initialize(peerId, serverCompatibility)` was called. */
export interface InitializeRequested {
  readonly type: "InitializeRequested";
  readonly peerId: number;
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
  readonly type: "AddPeerRequested";
  readonly peerId: number;
  readonly lifetime: number;
  readonly connection: ObservedConnection;
}

/** `removePeer(peerId)` was called. */
export interface RemovePeerRequested {
  readonly type: "RemovePeerRequested";
  readonly peerId: number;
}

/** `close()` was called. */
export interface CloseRequested {
  readonly type: "CloseRequested";
}

/** `refuseNewConnections` was assigned. */
export interface RefuseNewConnectionsSet {
  readonly type: "RefuseNewConnectionsSet";
  readonly value: unknown;
}

/** `transferMode` was assigned. */
export interface TransferModeSet {
  readonly type: "TransferModeSet";
  readonly value: unknown;
}

/** `targetPeer` was assigned. */
export interface TargetPeerSet {
  readonly type: "TargetPeerSet";
  readonly value: unknown;
}

/** A peer's connection reported a new `connectionState`. */
export interface ConnectionStateChanged {
  readonly type: "ConnectionStateChanged";
  readonly peerId: number;
  readonly state: PeerConnectionState;
}

/** One of a peer's channels reported a new `readyState` (`open`/`close` events). */
export interface ChannelStateChanged {
  readonly type: "ChannelStateChanged";
  readonly peerId: number;
  readonly channel: ChannelIndex;
  readonly state: ChannelState;
}

/** One of a peer's channels fired `error`. */
export interface ChannelErrored {
  readonly type: "ChannelErrored";
  readonly peerId: number;
  readonly channel: ChannelIndex;
  readonly message: string;
}

/** `createDataChannel` threw while the channels of a just-added peer were made. */
export interface ChannelCreateFailed {
  readonly type: "ChannelCreateFailed";
  readonly peerId: number;
  readonly message: string;
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
  | ChannelCreateFailed;

/** Events that report what the WebRTC stack did (queued until `poll()` when `autoPoll` is off). */
export type Observation =
  | ConnectionStateChanged
  | ChannelStateChanged
  | ChannelErrored;

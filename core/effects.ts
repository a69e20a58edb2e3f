/**
 * Reducer outputs: imperative, plain-data instructions for the interpreter.
 *
 * @module
 */
import type { GodotError } from "./constants.ts";

/** A W3C `RTCDataChannelInit` for a pre-negotiated channel. */
export interface NegotiatedChannelInit {
  /** Always `true`: both sides create the channel with the same id. */
  readonly negotiated: true;
  /** The SCTP stream id (1, 2 or 3). */
  readonly id: number;
  /** Whether messages arrive in order. */
  readonly ordered: boolean;
  /** Retransmission time limit in ms (absent on the reliable channel). */
  readonly maxPacketLifeTime?: number;
  /** Retransmission count limit (only the liveness channel: 0). */
  readonly maxRetransmits?: number;
}

/** One channel to create: its label and init. */
export interface ChannelSpec {
  /** The channel's label. */
  readonly label: "reliable" | "ordered" | "unreliable";
  /** The `RTCDataChannelInit` to create it with. */
  readonly init: NegotiatedChannelInit;
}

/** Create the three channels of a peer, in order, with `binaryType = "arraybuffer"`. */
export interface CreateChannels {
  /** Discriminant. */
  readonly type: "CreateChannels";
  /** The peer whose connection gets the channels. */
  readonly peerId: number;
  /** The `[reliable, ordered, unreliable]` channels, in creation order. */
  readonly channels: readonly [ChannelSpec, ChannelSpec, ChannelSpec];
}

/** Close a peer's channels and connection and forget them (its queued packets stay). */
export interface ClosePeer {
  /** Discriminant. */
  readonly type: "ClosePeer";
  /** The peer to close. */
  readonly peerId: number;
}

/** Close the channels made so far for a peer whose channel creation failed; leave its connection open. */
export interface DiscardChannels {
  /** Discriminant. */
  readonly type: "DiscardChannels";
  /** The peer whose partial channels are closed. */
  readonly peerId: number;
}

/** Create a peer's liveness channel (liveness rule L1), `binaryType = "arraybuffer"`. */
export interface CreateLivenessChannel {
  /** Discriminant. */
  readonly type: "CreateLivenessChannel";
  /** The peer whose connection gets the channel. */
  readonly peerId: number;
  /** Its label and init (`LIVENESS_CHANNEL`). */
  readonly channel: { readonly label: string; readonly init: NegotiatedChannelInit };
}

/** Send one beacon to each of these peers on their liveness channels (a closed one is skipped). */
export interface SendBeacons {
  /** Discriminant. */
  readonly type: "SendBeacons";
  /** The peers, ascending. */
  readonly peerIds: readonly number[];
  /** What to say. */
  readonly kind: "hello" | "beat" | "bye";
}

/** Drop every queued inbound packet. */
export interface DropPackets {
  /** Discriminant. */
  readonly type: "DropPackets";
}

/** Names of the signals the mesh emits. */
export type SignalName =
  | "peer_connected"
  | "peer_disconnected"
  | "connection_succeeded"
  | "server_disconnected";

/** Emit a signal; `peerId` is set for `peer_connected` and `peer_disconnected`. */
export interface Emit {
  /** Discriminant. */
  readonly type: "Emit";
  /** The signal's name. */
  readonly signal: SignalName;
  /** The peer id carried by `peer_connected` and `peer_disconnected`. */
  readonly peerId?: number;
}

/** The answer to the request being reduced. */
export interface Reply {
  /** Discriminant. */
  readonly type: "Reply";
  /** The result of the request. */
  readonly error: GodotError;
  /** Human-readable reason; empty for `OK`. */
  readonly message: string;
}

/** Every effect the reducer produces. */
export type Effect =
  | CreateChannels
  | ClosePeer
  | DiscardChannels
  | CreateLivenessChannel
  | SendBeacons
  | DropPackets
  | Emit
  | Reply;

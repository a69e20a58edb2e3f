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
  /** The SCTP stream id (1, 2 or 3; Godot 4's extra channels 4, 5, ...). */
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
  /** The channel's label: `"reliable"`, `"ordered"`, `"unreliable"`, or an extra channel's id (`"4"`, ...). */
  readonly label: string;
  /** The `RTCDataChannelInit` to create it with. */
  readonly init: NegotiatedChannelInit;
}

/** Create the channels of a peer, in order, with `binaryType = "arraybuffer"`. */
export interface CreateChannels {
  /** Discriminant. */
  readonly type: "CreateChannels";
  /** The peer whose connection gets the channels. */
  readonly peerId: number;
  /** The `[reliable, ordered, unreliable]` channels, then Godot 4's extra ones, in creation order. */
  readonly channels: readonly ChannelSpec[];
  /**
   * Godot 4 only: the peer's turn in the receive round-robin (peers are served in the order they
   * were added) and, within the peer, the lowest channel with a packet first. Absent (Godot 3):
   * peers are served in ascending id order, each peer's packets in arrival order.
   */
  readonly turn?: number;
}

/**
 * Close a peer's connection but keep the peer: the connection's `"closed"` state is then observed
 * (a W3C connection closed locally fires no event of its own) and removes it (Godot 4's
 * `disconnectPeer(id)`, whose removal happens in a later poll).
 */
export interface CloseConnection {
  /** Discriminant. */
  readonly type: "CloseConnection";
  /** The peer whose connection is closed. */
  readonly peerId: number;
}

/** Close a peer's channels and connection and forget them (its queued packets stay). */
export interface ClosePeer {
  /** Discriminant. */
  readonly type: "ClosePeer";
  /** The peer to close. */
  readonly peerId: number;
}

/**
 * Close the channels made so far for a peer whose channel creation failed, leaving its connection
 * open (it is the caller's), and close a connection a replacement detached from it.
 */
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

/**
 * Replace a peer's connection (reconnect rule R3): make the link of the connection being passed to
 * `replacePeer` with these channels and the liveness channel, and detach the old connection (closed
 * at `ResendJournal` or when the peer is closed) without retiring the peer (its queued packets,
 * counters and journal stay). Reliable sends to the peer are held in its journal until
 * `ResendJournal`.
 */
export interface ReplaceConnection {
  /** Discriminant. */
  readonly type: "ReplaceConnection";
  /** The peer whose connection is replaced. */
  readonly peerId: number;
  /** Its channels, as `CreateChannels` made them. */
  readonly channels: readonly ChannelSpec[];
  /** The liveness channel's label and init. */
  readonly liveness: { readonly label: string; readonly init: NegotiatedChannelInit };
}

/**
 * Hold a peer's reliable sends in its journal from now on: its transport gave up while it was
 * interrupted, and a replacement is awaited (reconnect rule R6).
 */
export interface HoldPeer {
  /** Discriminant. */
  readonly type: "HoldPeer";
  /** The peer concerned. */
  readonly peerId: number;
}

/**
 * Send a peer's journal from these counts (one per reliable channel), in order, on its new
 * connection's channels, then end the holding (reconnect rule R5).
 */
export interface ResendJournal {
  /** Discriminant. */
  readonly type: "ResendJournal";
  /** The peer concerned. */
  readonly peerId: number;
  /** The peer's received count per reliable channel: the first message to send again. */
  readonly from: readonly number[];
}

/**
 * The peer has these many messages per reliable channel: drop them from its journal, and journal
 * what is sent to it from now on (reconnect rule R2).
 */
export interface AckJournal {
  /** Discriminant. */
  readonly type: "AckJournal";
  /** The peer concerned. */
  readonly peerId: number;
  /** Its received count per reliable channel. */
  readonly counts: readonly number[];
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
  | "server_disconnected"
  | "connected_to_server"
  | "connection_failed"
  | "peer_interrupted"
  | "peer_resumed";

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
  | CloseConnection
  | ClosePeer
  | DiscardChannels
  | CreateLivenessChannel
  | SendBeacons
  | ReplaceConnection
  | HoldPeer
  | ResendJournal
  | AckJournal
  | DropPackets
  | Emit
  | Reply;

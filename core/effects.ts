/**
 * Reducer outputs: imperative, plain-data instructions for the interpreter.
 *
 * @module
 */
import type { GodotError } from "./constants.ts";

/** A W3C `RTCDataChannelInit` for a pre-negotiated channel. */
export interface NegotiatedChannelInit {
  readonly negotiated: true;
  readonly id: number;
  readonly ordered: boolean;
  readonly maxPacketLifeTime?: number;
}

/** One channel to create: its label and init. */
export interface ChannelSpec {
  readonly label: "reliable" | "ordered" | "unreliable";
  readonly init: NegotiatedChannelInit;
}

/** Create the three channels of a peer, in order, with `binaryType = "arraybuffer"`. */
export interface CreateChannels {
  readonly type: "CreateChannels";
  readonly peerId: number;
  readonly channels: readonly [ChannelSpec, ChannelSpec, ChannelSpec];
}

/** Close a peer's channels and connection and forget them (its queued packets stay). */
export interface ClosePeer {
  readonly type: "ClosePeer";
  readonly peerId: number;
}

/** Close the channels made so far for a peer whose channel creation failed; leave its connection open. */
export interface DiscardChannels {
  readonly type: "DiscardChannels";
  readonly peerId: number;
}

/** Drop every queued inbound packet. */
export interface DropPackets {
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
  readonly type: "Emit";
  readonly signal: SignalName;
  readonly peerId?: number;
}

/** The answer to the request being reduced. */
export interface Reply {
  readonly type: "Reply";
  readonly error: GodotError;
  /** Human-readable reason; empty for `OK`. */
  readonly message: string;
}

/** Every effect the reducer produces. */
export type Effect =
  | CreateChannels
  | ClosePeer
  | DiscardChannels
  | DropPackets
  | Emit
  | Reply;

/**
 * The shapes the lobby clients' session (`_session.ts`) works with: the WebSocket, the options both
 * clients take, their events, the multiplayer object they drive, and what differs between the
 * protocols.
 *
 * @module
 */
import type { GodotError } from "../core/constants.ts";
import type { RTCPeerConnectionLike } from "../effects/w3c.ts";
import type {
  IceServer,
  PeerConnectionConfig,
  SignalingPeerConnection,
} from "../adapters/loopback.ts";
import type { StackName } from "../adapters/stack.ts";
import type { IceTransportPolicy } from "./ice.ts";
import type { ClientMessage, Parsed, ServerMessage } from "./protocol.ts";

/** A peer connection the client can negotiate and the mesh can use. */
export type ClientPeerConnection = RTCPeerConnectionLike & SignalingPeerConnection;

/** The WebSocket shape the client uses (the W3C one; `ws`'s class fits too). */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Sends one text frame. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Called once the connection is open. */
  onopen: ((event: Event) => void) | null;
  /** Called for every frame received (`event.data`). */
  onmessage: ((event: MessageEvent) => void) | null;
  /** Called once the connection closed (`event.code`, `event.reason`). */
  onclose: ((event: CloseEventLike) => void) | null;
  /** Called when the connection fails. */
  onerror: ((event: Event) => void) | null;
}

/** The event of a WebSocket's `onclose`: the DOM's `CloseEvent`, spelled out. */
export interface CloseEventLike extends Event {
  /** The close code. */
  readonly code: number;
  /** The close reason. */
  readonly reason: string;
  /** Whether the closing handshake completed. */
  readonly wasClean: boolean;
}

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The options both lobby clients take (`joinLobby`, `joinLobbyGodot4`). */
export interface SessionOptions {
  /**
   * Makes one connection per peer. Default: the adapter of {@link SessionOptions.stack} when one
   * is named, else the global `RTCPeerConnection` when there is one (browsers), else the
   * node-datachannel adapter (Deno, Node).
   */
  createPeerConnection?: (config: PeerConnectionConfig) => ClientPeerConnection;
  /**
   * The WebRTC stack of Deno and Node to make connections with when `createPeerConnection` is not
   * given: `"ndc"` (node-datachannel) or `"wrtc"` (`@roamhq/wrtc`, libwebrtc; install it). Only
   * the named stack is loaded.
   */
  stack?: StackName;
  /**
   * STUN/TURN servers for every connection. Default none (loopback and LAN). A TURN server needs
   * `username` and `credential` (see `turnRestCredentials` for time-limited ones). Checked before
   * anything connects: a malformed list rejects the join with an `IceConfigError` (`code`
   * `ERR_INVALID_PARAMETER`).
   */
  iceServers?: IceServer[];
  /**
   * `"relay"` uses TURN relays only (needs a TURN server); default `"all"`.
   */
  iceTransportPolicy?: IceTransportPolicy;
  /**
   * With a TURN server configured and policy `"all"`, a setup that failed is retried with policy
   * `"relay"` (both sides). Default true. libjuice (node-datachannel) can fail a pair behind a
   * symmetric NAT with policy `"all"` although relay would work; see README "Behind NAT".
   */
  relayFallback?: boolean;
  /**
   * A connection not connected this long after its setup began counts as a failed setup (and is
   * set up again, see `setupAttempts`). Default 20000 ms; libjuice alone gives up only after about
   * 40 s.
   */
  setupTimeoutMs?: number;
  /** WebSocket constructor. Default: the global one, else the `ws` package (Node 20). */
  WebSocket?: WebSocketConstructor;
  /** `unreliableLifetime` passed to `addPeer` (ms). Default 1, as the demo. */
  unreliableLifetime?: number;
  /** Time allowed from connecting to the join confirmation before joining rejects, ms. Default 10000. */
  joinTimeoutMs?: number;
  /**
   * How many times a connection to one peer is set up before giving up, when it fails before it
   * ever connected (`"failed"`, `"disconnected"` or `"closed"`, `setupTimeoutMs`, or with policy
   * `"relay"` gathering done without a relay candidate: the TURN server refused). Default 3; 1
   * disables retries. After the last attempt both sides give up and release the connection.
   */
  setupAttempts?: number;
}

/** `detail` of the `disconnected` event. */
export interface DisconnectDetail {
  /** The WebSocket close code. */
  readonly code: number;
  /** The WebSocket close reason. */
  readonly reason: string;
}

/** `detail` of the `signaling_error` event. */
export interface SignalingErrorDetail {
  /** What went wrong, readable. */
  readonly message: string;
  /** The peer concerned, if any. */
  readonly peerId?: number;
}

/** The events of a lobby client. */
export interface LobbyClientEventMap {
  /** The join was confirmed; `detail` is the lobby name. */
  lobby_joined: CustomEvent<string>;
  /** The host sealed the lobby. */
  lobby_sealed: CustomEvent<undefined>;
  /** A frame could not be understood or a negotiation step failed. Nothing is closed. */
  signaling_error: CustomEvent<SignalingErrorDetail>;
  /** The signaling connection ended; `detail` has the close code and reason. */
  disconnected: CustomEvent<DisconnectDetail>;
}

/** What the session drives: Godot 3's `WebRTCMultiplayer` or Godot 4's `WebRTCMultiplayerPeer`. */
export interface PeerTarget {
  /** Adds a peer's connection. */
  addPeer(
    connection: RTCPeerConnectionLike,
    peerId: number,
    unreliableLifetime?: number,
  ): GodotError;
  /** Removes a peer. */
  removePeer(peerId: number): void;
  /** Whether a peer was added. */
  hasPeer(peerId: number): boolean;
  /** Closes every connection. */
  close(): void;
  /** Why the last call failed. */
  readonly lastError: { readonly message: string };
  /** Gives an interrupted peer a fresh connection (reconnect); absent: never replaced. */
  replacePeer?(connection: RTCPeerConnectionLike, peerId: number): GodotError;
  /** Listens to the target's signals (`peer_interrupted` starts a replacement). */
  addEventListener?(type: string, listener: (event: Event) => void): void;
}

/** What differs between the protocols, for the session. */
export interface Dialect<T extends PeerTarget> {
  /** Formats a frame to send. */
  encode(message: ClientMessage): string;
  /** Parses a frame received. */
  decode(text: string): Parsed<ServerMessage>;
  /** Whether we make the offer to `peerId` (Godot 3: the lower id offers; Godot 4: the higher). */
  offersTo(ownId: number, peerId: number): boolean;
  /** Sets the target up once the server gave us our id (and the lobby's kind). */
  start(target: T, id: number, mesh: boolean): GodotError;
}

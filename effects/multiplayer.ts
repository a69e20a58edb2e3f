/**
 * `WebRTCMultiplayer`: Godot's `WebRTCMultiplayer` API over real W3C peer connections.
 *
 * This file is the interpreter of the pure core ({@link MultiplayerInterpreter}): it owns the
 * connection and channel objects by peer id, turns their events into reducer events, and carries
 * out the reducer's effects. Every lifecycle decision is the reducer's ({@link reduce}); none is
 * made here. `WebRTCMultiplayer` (Godot 3) and `WebRTCMultiplayerPeer` (Godot 4,
 * `./multiplayer_peer.ts`) are thin facades over it.
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "../core/constants.ts";
import type { Effect, SignalName } from "../core/effects.ts";
import type { Event as MeshEvent, Observation } from "../core/events.ts";
import {
  decodeBeacon,
  encodeBeacon,
  type LivenessCapability,
  livenessDeadline,
  livenessState,
  parseLivenessOptions,
  parseReconnectOptions,
} from "../core/liveness.ts";
import { reduce } from "../core/reduce.ts";
import { admit, channelMode, type Refused, route, skipsBusy } from "../core/route.ts";
import {
  initialState,
  isPeerReady,
  type MeshState,
  PEER_CONNECTION_STATES,
  type PeerConnectionState,
} from "../core/state.ts";
import { show } from "../core/_validate.ts";
import { closeOnExitSignals } from "./exit_signals.ts";
import { Inbox, type Packet } from "./inbox.ts";
import { type CandidatePair, readSelectedPair } from "./candidate_pair.ts";
import { TypedEventTarget } from "./typed_event_target.ts";
import {
  isPeerConnectionLike,
  type Listener,
  type RTCDataChannelLike,
  type RTCPeerConnectionLike,
} from "./w3c.ts";

/** Options of {@link WebRTCMultiplayer}. */
export interface MeshOptions {
  /**
   * `true` (default): state changes are applied and signals emitted as the connections report
   * them. `false`: observations wait until {@link WebRTCMultiplayer.poll}, like Godot.
   */
  autoPoll?: boolean;
  /** `putPacket` on the reliable channel returns `ERR_BUSY` above this many buffered bytes. Default 16 MiB. */
  highWaterMark?: number;
  /** The most packets queued per peer; more are dropped and counted in `stats()`. Default 65536. */
  maxQueuedPackets?: number;
  /** Max message size used when a connection does not report one (`sctp.maxMessageSize`). Default 262144. */
  defaultMaxMessageSize?: number;
  /**
   * Liveness beacons between peers of this library (docs/liveness.md): a peer silent for
   * `timeoutMs` (default 3000) is removed with `peer_disconnected`; beats go every `intervalMs`
   * (default 500, at most `timeoutMs / 3`); a peer that shows no liveness within `probeWindowMs`
   * (default 5000; a Godot peer) is left to its transport; our own timer running `stallMs` (default
   * 1000) late counts as a local stall, not as the peers' silence. `false` turns it off. Bad values
   * throw a `TypeError` from the constructor.
   */
  liveness?: LivenessOptions | false;
  /**
   * Short outages heal (off by default: Godot removes a peer on "disconnected"). A peer silent for
   * the liveness timeout, or whose connection reports `"disconnected"`, is first
   * `peer_interrupted`; heard from again within `graceMs` (default 10000) it is `peer_resumed`,
   * else `peer_disconnected`. The connection itself must survive the outage: no ICE restart is
   * made (libdatachannel 0.24 cannot restart ICE; see docs/liveness.md for what heals on which
   * stack). Needs liveness. Bad values throw a `TypeError` from the constructor.
   */
  reconnect?: { graceMs?: number } | boolean;
}

/** The settings of {@link MeshOptions.liveness}, in milliseconds; omitted ones take the defaults. */
export interface LivenessOptions {
  /** Silence after which a peer running liveness is gone. Default 3000. */
  timeoutMs?: number;
  /** Period of our beats. Default 500 (or `timeoutMs / 6` when that is smaller). */
  intervalMs?: number;
  /** How long to wait for a peer's first beacon before leaving it to its transport. Default 5000. */
  probeWindowMs?: number;
  /** Lateness of our own timer that counts as a local stall. Default 1000. */
  stallMs?: number;
  /**
   * SIGINT/SIGTERM in Deno and Node close the mesh first (its peers get a `bye`), then the signal
   * takes its usual course (effects/exit_signals.ts). Default true.
   */
  byeOnExit?: boolean;
}

/** What {@link WebRTCMultiplayer.getPeer} returns: Godot's peer dictionary. */
export interface PeerInfo {
  /** The connection passed to `addPeer`. */
  readonly connection: RTCPeerConnectionLike;
  /** The `[reliable, ordered, unreliable]` channels, then Godot 4's extra channels. */
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

/** The objects behind one peer id. */
interface Link {
  readonly connection: RTCPeerConnectionLike;
  readonly channels: RTCDataChannelLike[];
  /** The library's liveness channel (never one of `channels`). */
  liveness?: RTCDataChannelLike;
  /** Whether `createDataChannel` failed for one of the three channels. */
  failed: boolean;
  /** When the latest data message arrived (clock ms), and whether it was reported yet. */
  heardAt: number;
  heardReported: boolean;
  readonly listeners: Array<
    readonly [RTCPeerConnectionLike | RTCDataChannelLike, string, Listener]
  >;
  sent: number;
  /** Broadcast packets this peer missed because its reliable channel was over the high-water mark. */
  busy: number;
  /** The SCTP max message size, once the connection reported it. */
  maxMessageSize?: number;
  /** The selected ICE candidate pair, once connected (see `candidate_pair.ts`). */
  candidatePair?: CandidatePair;
}

interface Waiter<P> {
  resolve(result: IteratorResult<P>): void;
}

const CONNECTION_STATES: ReadonlySet<string> = new Set(PEER_CONNECTION_STATES);
const OK: LastError = { error: GodotError.OK, message: "" };
const DEFAULT_HIGH_WATER_MARK = 16 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 65536;
const DEFAULT_MAX_MESSAGE_SIZE = 262144;
const encoder = new TextEncoder();

function describe(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    const missing = ["connectionState", "createDataChannel", "close", "addEventListener"]
      .filter((k) => !(k in value));
    const base = show(value);
    return missing.length > 0 ? `${base} without ${missing.join(", ")}` : base;
  }
  return show(value);
}

function stateOf(connection: unknown): string {
  try {
    return String((connection as RTCPeerConnectionLike).connectionState);
  } catch {
    return "unreadable";
  }
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof data === "string") return encoder.encode(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return undefined;
}

/**
 * In a browser, a page that goes away closes the mesh, so its peers get a `bye` at once instead of
 * waiting out the liveness timeout. The listener holds the mesh weakly.
 */
function closeOnPageHide(mesh: { close(): void }): void {
  const target = globalThis as unknown as {
    addEventListener?: (type: string, listener: () => void) => void;
    onpagehide?: unknown;
  };
  if (typeof target.addEventListener !== "function" || !("onpagehide" in target)) return;
  const ref = new WeakRef(mesh);
  target.addEventListener("pagehide", () => ref.deref()?.close());
}

/**
 * The interpreter shared by {@link WebRTCMultiplayer} (Godot 3) and `WebRTCMultiplayerPeer`
 * (Godot 4): it holds the reducer's state, the connections and channels by peer id, the inbound
 * queue and the signals. The facades add only their API's own calls; `M` is their signal map and
 * `P` the packet shape their `packets()` yields.
 */
export abstract class MultiplayerInterpreter<
  M extends { [K in keyof M]: Event },
  P extends { readonly peerId: number; readonly data: Uint8Array },
> extends TypedEventTarget<M> {
  #state: MeshState;
  #links = new Map<number, Link>();
  #inbox: Inbox<P>;
  #autoPoll: boolean;
  #highWaterMark: number;
  #defaultMaxMessageSize: number;
  /** Events waiting for the reducer while an earlier one's effects are applied. */
  #work: MeshEvent[] = [];
  #draining = false;
  /** The last `Reply` of the current drain. */
  #reply: LastError = OK;
  /** Observations waiting for `poll()` (autoPoll off), with the link they came from. */
  #pending: Array<readonly [Observation, Link]> = [];
  /** Signals waiting to be dispatched once the reducer is idle. */
  #signals: CustomEvent[] = [];
  #firing = false;
  /** The connection of the `addPeer` call being reduced. */
  #adding: RTCPeerConnectionLike | undefined;
  #waiters: Waiter<P>[] = [];
  #lastError: LastError = OK;
  /** Channels closed by the mesh that have not reported `close` yet. */
  #closing = new Set<Promise<void>>();
  /** The one liveness timer, and the deadline it is set for. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt: number | null = null;

  /**
   * An interpreter starting from `initial` (the facade's API decides which). Throws a `TypeError`
   * for invalid `liveness` settings.
   */
  protected constructor(options: MeshOptions, initial: MeshState) {
    super();
    const liveness = parseLivenessOptions(options.liveness);
    if (liveness._tag === "Left") throw new TypeError(liveness.left);
    const reconnect = parseReconnectOptions(options.reconnect, liveness.right !== null);
    if (reconnect._tag === "Left") throw new TypeError(reconnect.left);
    this.#state = { ...initial, liveness: livenessState(liveness.right, reconnect.right) };
    if (liveness.right !== null) closeOnPageHide(this);
    if (liveness.right?.byeOnExit === true) closeOnExitSignals(this);
    this.#autoPoll = options.autoPoll ?? true;
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#defaultMaxMessageSize = options.defaultMaxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#inbox = new Inbox(options.maxQueuedPackets ?? DEFAULT_MAX_QUEUED);
  }

  /**
   * Why the last call failed (`error` and a readable `message`), or `{ error: OK }` when it
   * succeeded.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.initialize(0);
   * console.log(mesh.lastError.message); // initialize: peer id must be an integer in 1..2147483647, got 0
   * ```
   */
  get lastError(): LastError {
    return this.#lastError;
  }

  /**
   * The reducer's current state (read-only snapshot; for tests and diagnostics).
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().state.uniqueId); // 0
   * ```
   */
  get state(): MeshState {
    return this.#state;
  }

  /**
   * Adds a connection in state `"new"` as peer `peerId` and creates its three pre-negotiated
   * channels. `unreliableLifetime` (ms) is the `maxPacketLifeTime` of the ordered and unreliable
   * channels.
   *
   * @example
   * ```ts
   * import { GodotError, WebRTCMultiplayer } from "./multiplayer.ts";
   * import { createPeerConnection } from "../adapters/node_datachannel.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.initialize(1);
   * const pc = createPeerConnection();
   * console.log(mesh.addPeer(pc, 2) === GodotError.OK); // true
   * console.log(mesh.getPeer(2)?.channels.map((c) => c.label)); // [ "reliable", "ordered", "unreliable" ]
   * mesh.close();
   * await mesh.whenClosed();
   * ```
   */
  addPeer(connection: RTCPeerConnectionLike, peerId: number, unreliableLifetime = 1): GodotError {
    const w3c = isPeerConnectionLike(connection);
    this.#adding = w3c ? connection : undefined;
    try {
      return this.request({
        type: "AddPeerRequested",
        peerId,
        lifetime: unreliableLifetime,
        connection: {
          w3c,
          state: w3c ? stateOf(connection) : "",
          description: describe(connection),
        },
      });
    } finally {
      this.#adding = undefined;
    }
  }

  /**
   * Removes a peer: closes its channels and connection, and emits `peer_disconnected` if it was
   * announced. Unknown ids change nothing (`lastError` says why).
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.removePeer(9);
   * console.log(mesh.lastError.message); // removePeer: peer 9 is not in the mesh
   * ```
   */
  removePeer(peerId: number): void {
    this.request({ type: "RemovePeerRequested", peerId });
  }

  /**
   * Whether a peer with this id is in the mesh (connected or not).
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().hasPeer(2)); // false
   * ```
   */
  hasPeer(peerId: number): boolean {
    return this.#state.peers.has(peerId);
  }

  /**
   * The peer's connection, its `[reliable, ordered, unreliable]` channels, and whether it is
   * connected; `undefined` for an unknown id.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().getPeer(2)); // undefined
   * ```
   */
  getPeer(peerId: number): PeerInfo | undefined {
    const peer = this.#state.peers.get(peerId);
    const link = this.#links.get(peerId);
    if (peer === undefined || link === undefined) return undefined;
    return {
      connection: link.connection,
      channels: link.channels.slice(0, peer.channels.length) as unknown as PeerInfo["channels"],
      connected: isPeerReady(peer),
    };
  }

  /**
   * Every peer, by id, as {@link getPeer} describes it.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().getPeers().size); // 0
   * ```
   */
  getPeers(): Map<number, PeerInfo> {
    const peers = new Map<number, PeerInfo>();
    for (const id of this.#state.peers.keys()) {
      const info = this.getPeer(id);
      if (info !== undefined) peers.set(id, info);
    }
    return peers;
  }

  /**
   * Closes every connection and channel, forgets every peer, drops queued packets and ends
   * `packets()` readers. Status `DISCONNECTED`, id 0. Emits no signals; safe to call twice;
   * `initialize` may be called again afterwards.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.initialize(1);
   * mesh.close();
   * console.log(mesh.getUniqueId()); // 0
   * ```
   */
  close(): void {
    this.request({ type: "CloseRequested" });
  }

  /**
   * When true, `addPeer` is refused with `ERR_UNAUTHORIZED`; peers already added stay.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.refuseNewConnections = true;
   * console.log(mesh.refuseNewConnections); // true
   * ```
   */
  get refuseNewConnections(): boolean {
    return this.#state.refuseNewConnections;
  }
  set refuseNewConnections(value: boolean) {
    this.request({ type: "RefuseNewConnectionsSet", value });
  }

  /**
   * The channel `putPacket` uses. Default `RELIABLE`. Invalid values are refused (`lastError`).
   *
   * @example
   * ```ts
   * import { TransferMode, WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.transferMode = TransferMode.UNRELIABLE;
   * console.log(mesh.transferMode); // 0
   * ```
   */
  get transferMode(): TransferMode {
    return this.#state.transferMode;
  }
  set transferMode(value: TransferMode) {
    this.request({ type: "TransferModeSet", value });
  }

  /**
   * Where `putPacket` sends: 0 every peer, > 0 that peer, < 0 every peer but `-targetPeer`.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.targetPeer = -3;
   * console.log(mesh.targetPeer); // -3
   * ```
   */
  get targetPeer(): number {
    return this.#state.targetPeer;
  }
  set targetPeer(value: number) {
    this.request({ type: "TargetPeerSet", value });
  }

  /**
   * This mesh's own peer id; 0 before `initialize` and after `close`.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.initialize(4);
   * console.log(mesh.getUniqueId()); // 4
   * ```
   */
  getUniqueId(): number {
    return this.#state.uniqueId;
  }

  /**
   * Whether this mesh is the server, peer 1.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.initialize(1, true);
   * console.log(mesh.isServer()); // true
   * ```
   */
  isServer(): boolean {
    return this.#state.uniqueId === 1;
  }

  /**
   * Godot's connection status: `DISCONNECTED`, `CONNECTING` (server-compatible client waiting for
   * peer 1) or `CONNECTED`.
   *
   * @example
   * ```ts
   * import { ConnectionStatus, WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().getConnectionStatus() === ConnectionStatus.DISCONNECTED); // true
   * ```
   */
  getConnectionStatus(): ConnectionStatus {
    return this.#state.status;
  }

  /**
   * Applies queued observations and emits their signals (with `autoPoll: false`), and with
   * liveness on sends the beats that are due and judges silent peers: a game loop that polls every
   * frame keeps liveness running. With the default `autoPoll: true` a timer does that and calling
   * this is harmless.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer({ autoPoll: false });
   * mesh.poll();
   * ```
   */
  poll(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const [event, link] of pending) {
      // An observation of a connection that was removed (or replaced) since is stale.
      if (this.#links.get(event.peerId) === link) this.#run(event);
    }
    const due = livenessDeadline(this.#state);
    if (due !== null && performance.now() >= due) this.#tick();
  }

  /**
   * Sends `data` as one message, unchanged, on the channel of `transferMode` to `targetPeer`.
   * Returns `ERR_UNCONFIGURED` before `initialize`, `ERR_INVALID_PARAMETER` for an unknown target
   * or a payload over the max message size, `ERR_UNAVAILABLE` when the target's channel is not open,
   * `ERR_BUSY` when a reliable channel is over the high-water mark. Nothing is sent on failure.
   *
   * Back-pressure is per peer: a broadcast (`targetPeer <= 0`) reaches every peer whose reliable
   * channel is under the high-water mark and skips the others (`stats().peers.get(id).busy` counts
   * what each missed), so one client that stops reading never stalls the rest. A broadcast is
   * `ERR_BUSY` (nothing sent) only when every target is over the mark.
   *
   * @example
   * ```ts
   * import { GodotError, WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * console.log(mesh.putPacket(new Uint8Array([1])) === GodotError.ERR_UNCONFIGURED); // true
   * ```
   */
  putPacket(data: Uint8Array): GodotError {
    const bytes = data instanceof Uint8Array ? data : undefined;
    if (bytes === undefined) {
      return this.fail(
        GodotError.ERR_INVALID_PARAMETER,
        `putPacket: data must be a Uint8Array, got ${show(data)}`,
      );
    }
    const r = route(this.#state);
    if (r.error !== GodotError.OK) return this.fail(r.error, r.message);
    const { channel, peers } = r;
    const reliable = channelMode(this.#state.channelsConfig, channel) === TransferMode.RELIABLE;
    const broadcast = this.#state.targetPeer <= 0;
    // Per-peer back-pressure (route.ts `admit`): a broadcast skips the peers that cannot take it.
    let busy: Set<number> | undefined;
    let refusedBusy: Refused | undefined;
    for (let i = 0; i < peers.length; i++) {
      const link = this.#links.get(peers[i])!;
      const c = link.channels[channel];
      const refused = admit(
        bytes.byteLength,
        this.#maxMessageSize(link),
        channel,
        reliable ? c.bufferedAmount : 0, // a native call: only the reliable check needs it
        this.#highWaterMark,
        peers[i],
        reliable,
      );
      if (refused === undefined) continue;
      if (!skipsBusy(refused, broadcast)) return this.fail(refused.error, refused.message);
      (busy ??= new Set()).add(peers[i]);
      refusedBusy ??= refused;
    }
    if (busy !== undefined && busy.size === peers.length) {
      return this.fail(refusedBusy!.error, refusedBusy!.message);
    }
    for (let i = 0; i < peers.length; i++) {
      const link = this.#links.get(peers[i])!;
      if (busy?.has(peers[i])) {
        link.busy++;
        continue;
      }
      try {
        link.channels[channel].send(bytes);
        link.sent++;
      } catch (e) {
        // The channel closed under us; its close event removes the peer. A unicast reports it.
        if (peers.length === 1 && this.#state.targetPeer > 0) {
          return this.fail(
            GodotError.ERR_UNAVAILABLE,
            `putPacket: sending to peer ${peers[i]} failed: ${(e as Error)?.message ?? e}`,
          );
        }
      }
    }
    this.#lastError = OK;
    return GodotError.OK;
  }

  /**
   * Takes the next received packet (peers served round-robin, ascending ids), or `undefined`.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().getPacket()); // undefined
   * ```
   */
  getPacket(): Uint8Array | undefined {
    return this.#inbox.shift()?.data;
  }

  /** The packet the next `getPacket()` returns, left in the queue. */
  protected peekPacket(): P | undefined {
    return this.#inbox.peek();
  }

  /**
   * The sender of the packet the next `getPacket()` returns; 0 when nothing is queued.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().getPacketPeer()); // 0
   * ```
   */
  getPacketPeer(): number {
    return this.#inbox.peekPeer();
  }

  /**
   * How many received packets are queued.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().getAvailablePacketCount()); // 0
   * ```
   */
  getAvailablePacketCount(): number {
    return this.#inbox.size;
  }

  /**
   * Received packets as they arrive, in the order `getPacket` would return them. Ends when
   * `signal` aborts or `close()` is called. A packet goes either to this reader or to `getPacket`,
   * never both.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * const reader = mesh.packets(AbortSignal.timeout(10));
   * for await (const packet of reader) console.log(packet); // (nothing arrives; ends after 10 ms)
   * ```
   */
  packets(signal?: AbortSignal): AsyncIterableIterator<P> {
    let done = signal?.aborted ?? false;
    let waiter: Waiter<P> | undefined;
    const finish = (): IteratorResult<P> => {
      done = true;
      signal?.removeEventListener("abort", onAbort);
      return { done: true, value: undefined };
    };
    const onAbort = () => {
      if (waiter !== undefined) {
        const w = waiter;
        waiter = undefined;
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(finish());
      } else finish();
    };
    signal?.addEventListener("abort", onAbort);
    const iterator: AsyncIterableIterator<P> = {
      next: (): Promise<IteratorResult<P>> => {
        if (done) return Promise.resolve({ done: true, value: undefined });
        const packet = this.#inbox.shift();
        if (packet !== undefined) return Promise.resolve({ done: false, value: packet });
        return new Promise((resolve) => {
          const w: Waiter<P> = {
            resolve: (result) => {
              waiter = undefined;
              if (result.done) finish();
              resolve(result);
            },
          };
          waiter = w;
          this.#waiters.push(w);
        });
      },
      return: (): Promise<IteratorResult<P>> => {
        if (waiter !== undefined) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter = undefined;
        }
        return Promise.resolve(finish());
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Queue and traffic counters: queued, received, dropped (queue full) and sent packets, in total
   * and per peer.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * console.log(new WebRTCMultiplayer().stats().dropped); // 0
   * ```
   */
  stats(): MeshStats {
    const ids = new Set([...this.#links.keys(), ...this.#inbox.peerIds()]);
    const peers = new Map<number, PeerStats>();
    let received = 0;
    let dropped = 0;
    let sent = 0;
    for (const id of [...ids].sort((a, b) => a - b)) {
      const c = this.#inbox.counters(id);
      const link = this.#links.get(id);
      const departure = this.#departure(id);
      const pair = link?.candidatePair;
      peers.set(id, {
        ...c,
        sent: link?.sent ?? 0,
        busy: link?.busy ?? 0,
        ...(departure === undefined ? {} : { departure }),
        ...(pair ? { candidatePair: pair } : {}),
      });
      received += c.received;
      dropped += c.dropped;
    }
    for (const link of this.#links.values()) sent += link.sent;
    // Departed peers whose packets were all read are forgotten; their counts stay in the totals.
    const retired = this.#inbox.retiredCounters();
    received += retired.received;
    dropped += retired.dropped;
    return { queued: this.#inbox.size, received, dropped, sent, peers };
  }

  /**
   * Resolves once every channel the mesh has closed so far reports `close` and the connections
   * behind them are closed (or after `timeoutMs`). Closing is asynchronous in every WebRTC stack:
   * `close()` and `removePeer()` close channels at once and a connection right after its open
   * channels; await this before a process or test ends to let the native handles finish.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * mesh.close();
   * await mesh.whenClosed();
   * ```
   */
  async whenClosed(timeoutMs = 5000): Promise<void> {
    if (this.#closing.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      const settled = (async () => {
        while (this.#closing.size > 0) await Promise.all([...this.#closing]);
      })();
      await Promise.race([settled, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- the interpreter ----

  #departure(peerId: number): LivenessCapability | undefined {
    if (!this.#state.peers.has(peerId)) return undefined;
    if (this.#state.liveness.config === null) return "transport";
    return this.#state.liveness.peers.get(peerId)?.capability ?? "probing";
  }

  /** Keeps the one timer on the state's liveness deadline (autoPoll only; else `poll()` checks). */
  #armTimer(): void {
    const due = this.#autoPoll ? livenessDeadline(this.#state) : null;
    if (due === this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = due;
    if (due === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = null;
      this.#tick();
    }, Math.max(0, due - performance.now()));
  }

  /** `TimePassed`, with the latest data message of every peer heard from since the last one. */
  #tick(): void {
    const heard: Array<readonly [number, number]> = [];
    for (const [id, link] of this.#links) {
      if (!link.heardReported) {
        heard.push([id, link.heardAt]);
        link.heardReported = true;
      }
    }
    this.#run({ type: "TimePassed", now: performance.now(), heard });
  }

  /** Sets `lastError` and returns `error`. */
  protected fail(error: GodotError, message: string): GodotError {
    this.#lastError = { error, message };
    return error;
  }

  /** The connection's max message size; read once it is known (it does not change after). */
  #maxMessageSize(link: Link): number {
    if (link.maxMessageSize !== undefined) return link.maxMessageSize;
    const size = link.connection.sctp?.maxMessageSize;
    if (typeof size === "number" && size > 0) return link.maxMessageSize = size;
    return this.#defaultMaxMessageSize;
  }

  /** Reduces a request (an API call), sets `lastError` and returns its reply. */
  protected request(event: MeshEvent): GodotError {
    this.#reply = OK;
    this.#run(event);
    this.#lastError = this.#reply;
    return this.#reply.error;
  }

  /** An observation from a link: reduced now, or at the next `poll()`. */
  #observe(link: Link, event: Observation): void {
    if (this.#links.get(event.peerId) !== link) return;
    if (this.#autoPoll) this.#run(event);
    else this.#pending.push([event, link]);
  }

  /** Runs an event and everything it causes through the reducer, then fires the signals. */
  #run(event: MeshEvent): void {
    this.#work.push(event);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#work.shift(); next !== undefined; next = this.#work.shift()) {
        const [state, effects] = reduce(this.#state, next);
        this.#state = state;
        for (const effect of effects) this.#apply(effect);
      }
    } finally {
      this.#draining = false;
    }
    this.#armTimer();
    this.#fireSignals();
  }

  #apply(effect: Effect): void {
    switch (effect.type) {
      case "CreateChannels":
        this.#createChannels(effect.peerId, effect.channels, effect.turn);
        return;
      case "CloseConnection": {
        const link = this.#links.get(effect.peerId);
        if (link === undefined) return;
        try {
          link.connection.close();
        } catch {
          // Already closed: its state says so below.
        }
        // A W3C connection closed locally fires no event: observe what we did.
        this.#observe(link, {
          type: "ConnectionStateChanged",
          peerId: effect.peerId,
          state: "closed",
        });
        return;
      }
      case "ClosePeer":
        this.#closeLink(effect.peerId, true);
        return;
      case "DiscardChannels":
        this.#closeLink(effect.peerId, false);
        return;
      case "CreateLivenessChannel":
        this.#createLivenessChannel(effect.peerId, effect.channel);
        return;
      case "SendBeacons": {
        const bytes = encodeBeacon(effect.kind);
        for (const id of effect.peerIds) {
          const channel = this.#links.get(id)?.liveness;
          if (channel?.readyState !== "open") continue;
          try {
            channel.send(bytes);
          } catch {
            // Closing under us: its close event says so.
          }
        }
        return;
      }
      case "DropPackets":
        this.#inbox.clear();
        this.#pending = [];
        for (const w of this.#waiters.splice(0)) w.resolve({ done: true, value: undefined });
        return;
      case "Emit":
        this.#signals.push(this.#signal(effect.signal, effect.peerId));
        return;
      case "Reply":
        this.#reply = { error: effect.error, message: effect.message };
        return;
      default: {
        const unknown: never = effect;
        throw new Error(`unknown effect ${JSON.stringify(unknown)}`);
      }
    }
  }

  #signal(name: SignalName, peerId: number | undefined): CustomEvent {
    return new CustomEvent(name, { detail: peerId });
  }

  #fireSignals(): void {
    if (this.#firing) return;
    this.#firing = true;
    try {
      for (let s = this.#signals.shift(); s !== undefined; s = this.#signals.shift()) {
        this.dispatchEvent(s);
      }
    } finally {
      this.#firing = false;
    }
  }

  /** The packet object `packets()` yields, for a message on channel `index` of `mode`. */
  protected abstract packet(
    peerId: number,
    data: Uint8Array,
    index: number,
    mode: TransferMode,
  ): P;

  #createChannels(
    peerId: number,
    specs: readonly { label: string; init: object }[],
    turn: number | undefined,
  ): void {
    const connection = this.#adding!;
    const link: Link = {
      connection,
      channels: [],
      listeners: [],
      sent: 0,
      busy: 0,
      failed: false,
      heardAt: 0,
      heardReported: true,
    };
    this.#links.set(peerId, link);
    try {
      for (const spec of specs) {
        const channel = connection.createDataChannel(spec.label, { ...spec.init });
        link.channels.push(channel);
        channel.binaryType = "arraybuffer";
      }
    } catch (e) {
      link.failed = true;
      this.#work.push({
        type: "ChannelCreateFailed",
        peerId,
        message: e instanceof Error ? e.message : String(e),
      });
      return;
    }
    this.#listen(link, connection, "connectionstatechange", () => {
      const state = stateOf(connection);
      if (state === "connected") {
        readSelectedPair(connection).then((pair) => link.candidatePair = pair);
      }
      if (CONNECTION_STATES.has(state)) {
        this.#observe(link, {
          type: "ConnectionStateChanged",
          peerId,
          state: state as PeerConnectionState,
          now: performance.now(),
        });
      }
    });
    const config = this.#state.channelsConfig;
    // Godot 4 (a turn is given): peers in the order they were added, lowest channel first.
    const rank = turn ?? peerId;
    link.channels.forEach((channel, index) => {
      const mode = channelMode(config, index);
      const lane = turn === undefined ? 0 : index;
      this.#listen(link, channel, "open", () => {
        this.#observe(link, { type: "ChannelStateChanged", peerId, channel: index, state: "open" });
      });
      this.#listen(link, channel, "closing", () => {
        this.#observe(link, {
          type: "ChannelStateChanged",
          peerId,
          channel: index,
          state: "closing",
        });
      });
      this.#listen(link, channel, "close", () => {
        this.#observe(link, {
          type: "ChannelStateChanged",
          peerId,
          channel: index,
          state: "closed",
        });
      });
      this.#listen(link, channel, "error", (ev) => {
        const error = (ev as Event & { error?: { message?: string } }).error;
        this.#observe(link, {
          type: "ChannelErrored",
          peerId,
          channel: index,
          message: error?.message ?? "data channel error",
        });
      });
      this.#listen(link, channel, "message", (ev) => {
        link.heardAt = performance.now();
        link.heardReported = false;
        const data = toBytes((ev as MessageEvent).data);
        if (data !== undefined) this.#deliver(this.packet(peerId, data, index, mode), rank, lane);
      });
    });
  }

  /** The liveness channel: its open, close and beacons become liveness observations. */
  #createLivenessChannel(peerId: number, spec: { label: string; init: object }): void {
    const link = this.#links.get(peerId);
    if (link === undefined || link.failed) return;
    const closed = () =>
      this.#observe(link, { type: "LivenessChannelClosed", peerId, now: performance.now() });
    let channel: RTCDataChannelLike;
    try {
      channel = link.connection.createDataChannel(spec.label, { ...spec.init });
      channel.binaryType = "arraybuffer";
    } catch {
      // This stack cannot make it (e.g. fewer streams): the peer is left to its transport.
      this.#work.push({ type: "LivenessChannelClosed", peerId, now: performance.now() });
      return;
    }
    link.liveness = channel;
    this.#listen(link, channel, "open", () => {
      this.#observe(link, { type: "LivenessChannelOpened", peerId, now: performance.now() });
    });
    this.#listen(link, channel, "close", closed);
    this.#listen(link, channel, "message", (ev) => {
      const data = toBytes((ev as MessageEvent).data);
      const kind = data === undefined ? undefined : decodeBeacon(data);
      if (kind !== undefined) {
        this.#observe(link, { type: "BeaconReceived", peerId, kind, now: performance.now() });
      }
    });
  }

  #listen(
    link: Link,
    target: RTCPeerConnectionLike | RTCDataChannelLike,
    type: string,
    listener: Listener,
  ): void {
    target.addEventListener(type, listener);
    link.listeners.push([target, type, listener]);
  }

  #deliver(packet: P, turn: number, lane: number): void {
    if (!this.#inbox.push(packet, turn, lane)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve({ done: false, value: this.#inbox.shift()! });
  }

  /**
   * Tracks `channel` until it reports `close` (for `whenClosed()`), and returns a function that
   * ends the tracking at once if the channel is already closed by then.
   */
  #trackClose(channel: RTCDataChannelLike): () => void {
    let done = () => {};
    const closed = new Promise<void>((resolve) => {
      done = () => {
        channel.removeEventListener("close", done);
        this.#closing.delete(closed);
        resolve();
      };
      channel.addEventListener("close", done);
    });
    this.#closing.add(closed);
    return () => {
      if ((channel.readyState as string) === "closed") done();
    };
  }

  /**
   * Tracks an adapter's delayed native close (for `whenClosed()`). Needed when the remote closed
   * first: the channels are closed already, and a process that ended before the native close ran
   * could crash in node-datachannel (SIGSEGV at exit, seen about once in 15 test runs).
   */
  #trackNativeClose(connection: RTCPeerConnectionLike): void {
    let native: Promise<void>;
    try {
      if (typeof connection.whenNativeClosed !== "function") return;
      native = connection.whenNativeClosed();
    } catch {
      return;
    }
    const tracked: Promise<void> = Promise.resolve(native).catch(() => {}).then(() => {
      this.#closing.delete(tracked);
    });
    this.#closing.add(tracked);
  }

  /**
   * Closes a peer's connection (`ClosePeer`) or, when the connection is not ours to close
   * (`DiscardChannels`: `addPeer` failed), the channels made so far.
   *
   * A connection is closed as a whole and its channels close with it; the mesh never closes a
   * channel of a live connection itself. In node-datachannel a channel closed from here while the
   * remote closes the same stream (both ends leaving at once) can lose its `close` notification
   * for good: libdatachannel's remote-close thread wins the race, the binding drops its reference
   * meanwhile, and the callback that would release the native handle is never called, so the
   * process cannot exit. Browsers close the channels of a closed connection without an event;
   * node-datachannel reports each `close` shortly after. `whenClosed()` waits for either.
   */
  #closeLink(peerId: number, closeConnection: boolean): void {
    const link = this.#links.get(peerId);
    if (link === undefined) return;
    this.#links.delete(peerId);
    this.#inbox.retire(peerId);
    for (const [target, type, listener] of link.listeners) {
      target.removeEventListener(type, listener);
    }
    const settle: Array<() => void> = [];
    const channels = link.liveness === undefined ? link.channels : [
      ...link.channels,
      link.liveness,
    ];
    for (const channel of channels) {
      if (channel.readyState !== "closed") settle.push(this.#trackClose(channel));
      if (closeConnection) continue;
      try {
        channel.close();
      } catch {
        // Already closed or broken: nothing left to free.
      }
    }
    if (closeConnection) {
      try {
        link.connection.close();
      } catch {
        // Already closed: nothing left to free.
      }
      this.#trackNativeClose(link.connection);
    }
    for (const f of settle) f();
  }
}

/**
 * A full mesh of WebRTC peer connections with Godot's `WebRTCMultiplayer` API.
 *
 * Add one `RTCPeerConnection` per remote peer (in state `"new"`); the mesh creates three
 * pre-negotiated data channels on each, tracks when each peer is really connected, emits Godot's
 * signals as DOM events, and moves packets with Godot's targeting and transfer-mode rules. It never
 * creates offers or sets descriptions: signaling is the application's job (see `./signaling`).
 *
 * @example Two meshes in one process over real node-datachannel connections
 * ```ts
 * import { TransferMode, WebRTCMultiplayer } from "./multiplayer.ts";
 * import { connectPair, createPeerConnection } from "../adapters/node_datachannel.ts";
 *
 * const a = new WebRTCMultiplayer();
 * const b = new WebRTCMultiplayer();
 * a.initialize(1);
 * b.initialize(2);
 * const pa = createPeerConnection();
 * const pb = createPeerConnection();
 * a.addPeer(pa, 2);
 * b.addPeer(pb, 1);
 * const connected = Promise.all([a, b].map((mesh) =>
 *   new Promise((r) => mesh.addEventListener("peer_connected", r, { once: true }))
 * ));
 * await connectPair(pa, pb);
 * await connected;
 *
 * a.transferMode = TransferMode.RELIABLE;
 * a.putPacket(new TextEncoder().encode("hello"));
 * for await (const packet of b.packets()) {
 *   console.log(packet.peerId, new TextDecoder().decode(packet.data)); // 1 hello
 *   break;
 * }
 * a.close();
 * b.close();
 * await Promise.all([a.whenClosed(), b.whenClosed()]);
 * ```
 */
export class WebRTCMultiplayer extends MultiplayerInterpreter<WebRTCMultiplayerEventMap, Packet> {
  /** Creates an empty, uninitialized mesh. */
  constructor(options: MeshOptions = {}) {
    super(options, initialState);
  }

  /**
   * Initializes the mesh as peer `peerId` (1..2147483647). With `serverCompatibility` and an id
   * other than 1, the mesh behaves as a client of peer 1: no `peer_connected` until peer 1 is
   * connected, then `connection_succeeded`.
   *
   * @example
   * ```ts
   * import { ConnectionStatus, WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * console.log(mesh.initialize(5, true)); // 0 (OK)
   * console.log(mesh.getConnectionStatus() === ConnectionStatus.CONNECTING); // true
   * ```
   */
  initialize(peerId: number, serverCompatibility = false): GodotError {
    return this.request({ type: "InitializeRequested", peerId, serverCompatibility });
  }

  /** Godot 3's packet: the channel is named by its transfer mode. */
  protected override packet(
    peerId: number,
    data: Uint8Array,
    _index: number,
    mode: TransferMode,
  ): Packet {
    return { peerId, data, channel: mode };
  }
}

export { ConnectionStatus, GodotError, TransferMode };

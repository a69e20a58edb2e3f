/**
 * The interpreter of the pure core ({@link MultiplayerInterpreter}), shared by the facades
 * `WebRTCMultiplayer` (Godot 3, `./multiplayer.ts`) and `WebRTCMultiplayerPeer` (Godot 4,
 * `./multiplayer_peer.ts`).
 *
 * It owns the connection and channel objects by peer id (wired in `./_links.ts`), turns their
 * events into reducer events (`./_intake.ts`: at once or at `poll()`, beacons batched), and carries
 * out the reducer's effects (`./_apply.ts`). Every lifecycle decision is the reducer's; none is made
 * here. Events run through the reducer in `./_loop.ts`. Time enters as `TimePassed` events from one
 * timer kept on the state's liveness deadline (`./_deadline_timer.ts`); the options are checked in
 * `./options.ts`.
 *
 * @module
 */
import { type ConnectionStatus, GodotError, type TransferMode } from "../core/constants.ts";
import type { AddPeerRequested, Event as MeshEvent } from "../core/events.ts";
import { livenessDeadline } from "../core/liveness.ts";
import { isPeerReady, type MeshState } from "../core/state.ts";
import { show } from "../core/_validate.ts";
import { applyEffect, type EffectHost } from "./_apply.ts";
import { meshStats } from "./_stats.ts";
import { DeadlineTimer } from "./_deadline_timer.ts";
import { ReducerLoop } from "./_loop.ts";
import { describe, Links, stateOf } from "./_links.ts";
import { closeOnExitSignals, closeOnPageHide } from "./exit_signals.ts";
import { Inbox } from "./inbox.ts";
import { Intake, withJournal } from "./_intake.ts";
import { Journals } from "./_journal.ts";
import { PacketReaders } from "./_packet_readers.ts";
import { sendPacket } from "./_send.ts";
import type { LastError, MeshStats, PeerInfo } from "./mesh_types.ts";
import { type MeshOptions, resolveOptions } from "./options.ts";
import { TypedEventTarget } from "./typed_event_target.ts";
import { isPeerConnectionLike, type RTCPeerConnectionLike } from "./w3c.ts";

const OK: LastError = { error: GodotError.OK, message: "" };

/** What the reducer learns of a connection handed to `addPeer` or `replacePeer`. */
type ConnectionFacts = AddPeerRequested["connection"];

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
  /** The reducer's state and the work and signal queues (`_loop.ts`). */
  #loop: ReducerLoop;
  /** The connections and channels by peer id (`_links.ts`); their events come back here. */
  #links = new Links({
    observe: (link, event) => {
      this.#intake.observe(link, event);
      // A channel of a replaced connection opened: the resend may go on (core/reconnect.ts, R5).
      if (event.type === "ChannelStateChanged" && event.state === "open") {
        this.#journals.flush(event.peerId, this.#links.get(event.peerId)?.channels);
      }
    },
    beacon: (link, receipt) => this.#intake.beacon(link, receipt),
    defer: (event) => this.#loop.defer(event),
    deliver: (peerId, data, index, mode, turn, lane) => {
      if (this.#journals.size > 0) this.#journals.get(peerId)?.noteReceived(index);
      this.#readers.deliver(this.packet(peerId, data, index, mode), turn, lane);
    },
    retire: (peerId) => this.#inbox.retire(peerId),
  });
  #inbox: Inbox<P>;
  /** The readers waiting in `packets()` (`_packet_readers.ts`). */
  #readers: PacketReaders<P>;
  #autoPoll: boolean;
  /** How the links' reports reach the reducer: at once or at `poll()`, beacons batched. */
  #intake: Intake;
  #highWaterMark: number;
  #defaultMaxMessageSize: number;
  /** The last `Reply` of the current drain. */
  #reply: LastError = OK;
  /** The connection of the `addPeer` call being reduced. */
  #adding: RTCPeerConnectionLike | undefined;
  #lastError: LastError = OK;
  /** Reconnect journals by peer id (`_journal.ts`), when `reconnect` is on. */
  #journals: Journals;
  /** The one liveness timer (`_deadline_timer.ts`). */
  #timer = new DeadlineTimer(() => this.#intake.timePassed());
  /** What carrying out the reducer's effects needs (`_apply.ts`). */
  #host: EffectHost = {
    links: () => this.#links,
    journals: () => this.#journals,
    state: () => this.#loop.state,
    adding: () => this.#adding,
    observe: (link, event) => this.#intake.observe(link, event),
    dropPackets: () => {
      this.#inbox.clear();
      this.#intake.clear();
      this.#readers.end();
    },
    emit: (signal, peerId) => this.#loop.signal(new CustomEvent(signal, { detail: peerId })),
    reply: (error, message) => this.#reply = { error, message },
  };

  /**
   * An interpreter starting from `initial` (the facade's API decides which). Throws a `TypeError`
   * for invalid `liveness` settings.
   */
  protected constructor(options: MeshOptions, initial: MeshState) {
    super();
    const resolved = resolveOptions(options);
    this.#loop = new ReducerLoop({ ...initial, liveness: resolved.liveness }, {
      prepare: (event) => withJournal(this.#journals, event),
      apply: (effect) => applyEffect(this.#host, effect),
      settled: () => this.#timer.arm(this.#autoPoll ? livenessDeadline(this.#loop.state) : null),
      dispatch: (signal) => this.dispatchEvent(signal),
    });
    if (resolved.livenessConfig !== null) closeOnPageHide(this);
    if (resolved.livenessConfig?.byeOnExit === true) closeOnExitSignals(this);
    this.#autoPoll = resolved.autoPoll;
    this.#highWaterMark = resolved.highWaterMark;
    this.#defaultMaxMessageSize = resolved.defaultMaxMessageSize;
    this.#journals = new Journals(resolved.journalBytes);
    this.#inbox = new Inbox(resolved.maxQueuedPackets);
    this.#readers = new PacketReaders(this.#inbox);
    this.#intake = new Intake(this.#loop, this.#links, this.#autoPoll);
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
    return this.#loop.state;
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
    return this.#withConnection(connection, (facts) => ({
      type: "AddPeerRequested",
      peerId,
      lifetime: unreliableLifetime,
      connection: facts,
    }));
  }

  /**
   * Gives an interrupted peer a fresh connection (in state `"new"`) without `peer_disconnected`
   * (reconnect; core/reconnect.ts, R3): its channels are made again on `connection`, the old
   * connection is detached (closed once the peer resumes), and reliable packets to it are held
   * until the new connection's first beacon says what it has; then the unacknowledged ones are
   * sent again, in order, and `peer_resumed` follows. Negotiate `connection` as for `addPeer`.
   * Refused (`ERR_UNAVAILABLE`) without `reconnect`, or for a peer not connected and proven to
   * run liveness; a peer not yet interrupted is interrupted now. The signaling clients call it.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayer } from "./multiplayer.ts";
   * import { createPeerConnection } from "../adapters/node_datachannel.ts";
   * const mesh = new WebRTCMultiplayer({ reconnect: true });
   * mesh.initialize(1);
   * const pc = createPeerConnection();
   * mesh.replacePeer(pc, 2);
   * console.log(mesh.lastError.message); // replacePeer: peer 2 is not in the mesh
   * pc.close();
   * ```
   */
  replacePeer(connection: RTCPeerConnectionLike, peerId: number): GodotError {
    return this.#withConnection(connection, (facts) => ({
      type: "ReplacePeerRequested",
      peerId,
      now: performance.now(),
      connection: facts,
    }));
  }

  /** Reduces the request `make` builds from what `connection` is, with it at hand for its effects. */
  #withConnection(
    connection: RTCPeerConnectionLike,
    make: (facts: ConnectionFacts) => MeshEvent,
  ): GodotError {
    const w3c = isPeerConnectionLike(connection);
    this.#adding = w3c ? connection : undefined;
    try {
      const state = w3c ? stateOf(connection) : "";
      return this.request(make({ w3c, state, description: describe(connection) }));
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
    return this.#loop.state.peers.has(peerId);
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
    const peer = this.#loop.state.peers.get(peerId);
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
    for (const id of this.#loop.state.peers.keys()) {
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
    return this.#loop.state.refuseNewConnections;
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
    return this.#loop.state.transferMode;
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
    return this.#loop.state.targetPeer;
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
    return this.#loop.state.uniqueId;
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
    return this.#loop.state.uniqueId === 1;
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
    return this.#loop.state.status;
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
    this.#intake.poll();
    const due = livenessDeadline(this.#loop.state);
    if (due !== null && performance.now() >= due) this.#intake.timePassed();
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
    const failed = sendPacket(
      this.#links,
      this.#loop.state,
      bytes,
      this.#highWaterMark,
      this.#defaultMaxMessageSize,
      this.#journals.size > 0 ? this.#journals : undefined,
    );
    // A resend that lost what it owed (core/reconnect.ts, R7) is the reducer's to judge.
    if (this.#journals.lost.length > 0) this.#intake.journalsOverflowed(this.#journals);
    if (failed !== undefined) return this.fail(failed.error, failed.message);
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
    return this.#readers.packets(signal);
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
    return meshStats(this.#links, this.#inbox, this.#loop.state);
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
  whenClosed(timeoutMs = 5000): Promise<void> {
    return this.#links.whenClosed(timeoutMs);
  }

  // ---- the interpreter ----

  /** Sets `lastError` and returns `error`. */
  protected fail(error: GodotError, message: string): GodotError {
    this.#lastError = { error, message };
    return error;
  }

  /** Reduces a request (an API call), sets `lastError` and returns its reply. */
  protected request(event: MeshEvent): GodotError {
    this.#reply = OK;
    this.#loop.run(event);
    this.#lastError = this.#reply;
    return this.#reply.error;
  }

  /** The packet object `packets()` yields, for a message on channel `index` of `mode`. */
  protected abstract packet(
    peerId: number,
    data: Uint8Array,
    index: number,
    mode: TransferMode,
  ): P;
}

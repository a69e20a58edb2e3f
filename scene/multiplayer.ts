/**
 * `SceneMultiplayer`: Godot 4's high-level multiplayer protocol over a `WebRTCMultiplayerPeer`
 * (server, client or mesh). A thin interpreter: it turns the peer's signals and packets into
 * `SceneEvent`s for the pure rules (`reduce.ts`) and carries out their effects; one timer serves
 * the auth deadline.
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "../core/constants.ts";
import { TypedEventTarget } from "../effects/typed_event_target.ts";
import type { WebRTCMultiplayerPeer } from "../effects/multiplayer_peer.ts";
import { nextDeadline, reduceScene } from "./reduce.ts";
import { type RpcConfig, rpcNode } from "./rpc.ts";
import { initialSceneState, type SceneEffect, type SceneEvent, type SceneState } from "./state.ts";
import type { Variant } from "./variant.ts";
import type { RejectReason } from "./wire.ts";

/** `peer_packet`'s detail: `sendBytes` data from a peer. */
export interface PeerPacketDetail {
  /** The sender (the original one for a relayed packet). */
  readonly from: number;
  /** The bytes it sent. */
  readonly data: Uint8Array;
}

/** `replication`'s detail: a SPAWN/DESPAWN/SYNC packet addressed to us, undecoded. */
export interface ReplicationDetail {
  /** The sender. */
  readonly from: number;
  /** Which command. */
  readonly command: "spawn" | "despawn" | "sync" | "delta";
  /** The whole packet. */
  readonly data: Uint8Array;
}

/** `packet_rejected`'s detail. */
export interface RejectedDetail {
  /** The sender (the relayed source when known). */
  readonly from: number;
  /** The counted reason. */
  readonly reason: RejectReason;
  /** Details. */
  readonly detail: string;
}

/** `rpc`'s detail: an RPC that ran (its handler, if any, was called first). */
export interface RpcDetail {
  /** The caller (ours for a local call). */
  readonly from: number;
  /** The node path. */
  readonly path: string;
  /** The method. */
  readonly method: string;
  /** The decoded arguments. */
  readonly args: readonly Variant[];
}

/** The signals of a {@link SceneMultiplayer} and their event types. */
export interface SceneMultiplayerEventMap {
  /** A peer was admitted (after authentication when enabled; relayed peers too). */
  peer_connected: CustomEvent<number>;
  /** An admitted peer left. */
  peer_disconnected: CustomEvent<number>;
  /** Client: the server was admitted. */
  connected_to_server: CustomEvent<undefined>;
  /** Client: the transport went down before it ever connected. */
  connection_failed: CustomEvent<undefined>;
  /** The transport went down after it was connected. */
  server_disconnected: CustomEvent<undefined>;
  /** A transport peer connected and its authentication started. */
  peer_authenticating: CustomEvent<number>;
  /** An authenticating peer timed out or left. */
  peer_authentication_failed: CustomEvent<number>;
  /** `sendBytes` data arrived. */
  peer_packet: CustomEvent<PeerPacketDetail>;
  /** An RPC ran. */
  rpc: CustomEvent<RpcDetail>;
  /** Replication traffic addressed to us (raw). */
  replication: CustomEvent<ReplicationDetail>;
  /** A packet was refused (or a checksum mismatched); counted in `stats().rejected`. */
  packet_rejected: CustomEvent<RejectedDetail>;
}

/** An RPC handler: the decoded arguments and the caller's id. */
export type RpcHandler = (args: readonly Variant[], from: number) => void;

/** One method of {@link SceneMultiplayer.registerRpc}: its `@rpc` settings and handler. */
export interface RpcMethodSpec extends RpcConfig {
  /** Runs when the method is called (remotely, or locally with `callLocal`). */
  readonly handler?: RpcHandler;
}

/** Options of a {@link SceneMultiplayer}. */
export interface SceneMultiplayerOptions {
  /** Enables authentication: called with each authentication message. */
  authCallback?: (peer: number, data: Uint8Array) => void;
  /** Auth timeout in ms (default 3000; 0 = none). */
  authTimeout?: number;
  /** `server_relay` (default true). */
  serverRelay?: boolean;
  /** `true` (default): packets are read as they arrive. `false`: call {@link SceneMultiplayer.poll}. */
  autoPoll?: boolean;
  /** Where refused packets are logged (default `console.warn`). */
  log?: (message: string) => void;
  /** The clock, in ms (default `performance.now`). */
  now?: () => number;
}

/** Counters of a {@link SceneMultiplayer}. */
export interface SceneStats {
  /** Refused packets by reason. */
  readonly rejected: Readonly<Partial<Record<RejectReason, number>>>;
  /** Packets the peer refused to send (`putPacket` errors). */
  readonly sendFailures: number;
}

const PEER_SIGNALS = [
  "peer_connected",
  "peer_disconnected",
  "connected_to_server",
  "connection_failed",
  "server_disconnected",
] as const;

/**
 * Godot 4's `SceneMultiplayer` over a {@link WebRTCMultiplayerPeer}: authentication, server relay,
 * `sendBytes`, RPCs with the node-path cache; replication traffic relayed untouched and surfaced
 * raw. Speaks the wire format of Godot's own SceneMultiplayer, so a TS server can host Godot 4
 * clients and a TS client can join a Godot 4 server.
 *
 * Every call that can fail returns a `GodotError` and sets {@link SceneMultiplayer.lastError}.
 *
 * @example A server and a client over real node-datachannel connections, one RPC
 * ```ts
 * import { SceneMultiplayer } from "./multiplayer.ts";
 * import { RpcMode } from "./rpc.ts";
 * import { WebRTCMultiplayerPeer } from "../effects/multiplayer_peer.ts";
 * import { connectPair, createPeerConnection } from "../adapters/node_datachannel.ts";
 *
 * const serverPeer = new WebRTCMultiplayerPeer();
 * const clientPeer = new WebRTCMultiplayerPeer();
 * serverPeer.createServer();
 * clientPeer.createClient(2);
 * const server = new SceneMultiplayer(serverPeer);
 * const client = new SceneMultiplayer(clientPeer);
 * const heard = new Promise((resolve) => {
 *   server.registerRpc("Main", { hello: { mode: RpcMode.ANY_PEER, handler: resolve } });
 * });
 * client.registerRpc("Main", { hello: { mode: RpcMode.ANY_PEER } });
 * const joined = new Promise((r) => client.addEventListener("connected_to_server", r));
 * const a = createPeerConnection();
 * const b = createPeerConnection();
 * serverPeer.addPeer(a, 2);
 * clientPeer.addPeer(b, 1);
 * await connectPair(a, b);
 * await joined;
 * client.rpcId(1, "Main", "hello", [42, "hi"]);
 * console.log(await heard); // [ 42, "hi" ]
 * server.close();
 * client.close();
 * await Promise.all([serverPeer.whenClosed(), clientPeer.whenClosed()]);
 * ```
 */
export class SceneMultiplayer extends TypedEventTarget<SceneMultiplayerEventMap> {
  #state: SceneState = initialSceneState;
  #peer: WebRTCMultiplayerPeer;
  #status: ConnectionStatus = ConnectionStatus.DISCONNECTED;
  #authCallback: ((peer: number, data: Uint8Array) => void) | undefined;
  #handlers = new Map<string, Map<string, RpcHandler>>();
  #log: (message: string) => void;
  #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #deadline: number | undefined;
  #abort = new AbortController();
  #closed = false;
  #sendFailures = 0;
  #remoteSender = 0;
  #lastError: { error: GodotError; message: string } = { error: GodotError.OK, message: "" };
  #listeners: Array<readonly [string, EventListener]> = [];

  /** Speaks SceneMultiplayer over `peer` (already created with `createServer/Client/Mesh`). */
  constructor(peer: WebRTCMultiplayerPeer, options: SceneMultiplayerOptions = {}) {
    super();
    this.#peer = peer;
    this.#log = options.log ?? ((m) => console.warn(`[SceneMultiplayer] ${m}`));
    this.#now = options.now ?? (() => performance.now());
    this.#authCallback = options.authCallback;
    this.#step({
      type: "OptionsSet",
      authEnabled: options.authCallback !== undefined,
      authTimeout: options.authTimeout ?? 3000,
      serverRelay: options.serverRelay ?? true,
    });
    for (const name of PEER_SIGNALS) {
      const listener = (e: Event) => this.#onPeerSignal(name, (e as CustomEvent<number>).detail);
      peer.addEventListener(name, listener);
      this.#listeners.push([name, listener]);
    }
    this.#syncStatus();
    if (options.autoPoll ?? true) this.#readLoop();
  }

  /** The peer underneath. */
  get multiplayerPeer(): WebRTCMultiplayerPeer {
    return this.#peer;
  }

  /** Why the last failing call failed (`OK` after a success). */
  get lastError(): { readonly error: GodotError; readonly message: string } {
    return this.#lastError;
  }

  /** The authentication callback; setting one enables authentication of new peers. */
  get authCallback(): ((peer: number, data: Uint8Array) => void) | undefined {
    return this.#authCallback;
  }
  set authCallback(callback: ((peer: number, data: Uint8Array) => void) | undefined) {
    this.#authCallback = callback;
    this.#step({ type: "OptionsSet", authEnabled: callback !== undefined });
  }

  /** Auth timeout in ms (0 = none). */
  get authTimeout(): number {
    return this.#state.authTimeout;
  }
  set authTimeout(ms: number) {
    this.#request({ type: "OptionsSet", authTimeout: ms });
  }

  /** `server_relay`: relay between clients through the server (default true). */
  get serverRelay(): boolean {
    return this.#state.serverRelay;
  }
  set serverRelay(on: boolean) {
    this.#step({ type: "OptionsSet", serverRelay: !!on });
  }

  /** Our id (0 until the transport is connected). */
  getUniqueId(): number {
    return this.#state.uniqueId;
  }

  /** Admitted peers, relayed ones included. */
  getPeers(): number[] {
    return [...this.#state.connected];
  }

  /** Peers whose authentication is in progress. */
  getAuthenticatingPeers(): number[] {
    return [...this.#state.pending.keys()];
  }

  /** The sender of the RPC or packet being handled (0 outside a handler). */
  getRemoteSenderId(): number {
    return this.#remoteSender;
  }

  /** Counters: refused packets by reason, failed sends. */
  stats(): SceneStats {
    return { rejected: { ...this.#state.rejected }, sendFailures: this.#sendFailures };
  }

  /**
   * Registers a node's RPC methods: ids are the code-point order of the names, as Godot numbers a
   * script's `@rpc` functions, so both sides must register the same names at the same path
   * (relative to the root, e.g. `"Main"` for `/root/Main`). `authority` (default 1) may call
   * `AUTHORITY` methods.
   */
  registerRpc(
    path: string,
    methods: { readonly [name: string]: RpcMethodSpec },
    authority = 1,
  ): GodotError {
    let node;
    try {
      node = rpcNode(path, methods, authority);
    } catch (e) {
      return this.#fail(GodotError.ERR_INVALID_PARAMETER, `registerRpc: ${(e as Error).message}`);
    }
    const handlers = new Map<string, RpcHandler>();
    for (const [name, spec] of Object.entries(methods)) {
      if (spec.handler) handlers.set(name, spec.handler);
    }
    this.#handlers.set(path, handlers);
    return this.#request({ type: "NodeRegistered", node });
  }

  /** `send_auth(peer, data)`: authentication data to an authenticating peer. */
  sendAuth(peer: number, data: Uint8Array): GodotError {
    return this.#request({ type: "SendAuthRequested", peer, data });
  }

  /** `complete_auth(peer)`: our side accepts it; admitted once it completes too. */
  completeAuth(peer: number): GodotError {
    return this.#request({ type: "CompleteAuthRequested", peer });
  }

  /** Drops a peer: announced to the others, no `peer_disconnected` here (as Godot). */
  disconnectPeer(peer: number): GodotError {
    return this.#request({ type: "DisconnectPeerRequested", peer });
  }

  /** `send_bytes`: to one peer (> 0), everyone (0) or everyone but one (< 0). */
  sendBytes(
    data: Uint8Array,
    id = 0,
    mode: TransferMode = TransferMode.RELIABLE,
    channel = 0,
  ): GodotError {
    return this.#request({ type: "SendBytesRequested", data, target: id, mode, channel });
  }

  /** `rpc()`: calls `method` of the node at `path` on every peer (and here with `callLocal`). */
  rpc(path: string, method: string, args: readonly Variant[] = []): GodotError {
    return this.#request({ type: "RpcRequested", path, method, args, target: 0 });
  }

  /** `rpc_id()`: on one peer (> 0), or every peer but one (< 0). */
  rpcId(peer: number, path: string, method: string, args: readonly Variant[] = []): GodotError {
    return this.#request({ type: "RpcRequested", path, method, args, target: peer });
  }

  /** Reads the peer's queued packets and applies them (with `autoPoll: false`; harmless otherwise). */
  poll(): void {
    if (this.#closed) return;
    this.#peer.poll();
    this.#syncStatus();
    while (this.#peer.getAvailablePacketCount() > 0) {
      const from = this.#peer.getPacketPeer();
      const channel = this.#peer.getPacketChannel();
      const mode = this.#peer.getPacketMode();
      const data = this.#peer.getPacket()!;
      this.#receive(from, data, mode, channel);
    }
    this.#tick();
  }

  /** Stops reading and closes the peer. Emits nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [name, listener] of this.#listeners) this.#peer.removeEventListener(name, listener);
    this.#listeners = [];
    this.#peer.close();
    this.#state = reduceScene(this.#state, { type: "TransportClosed" })[0];
  }

  async #readLoop(): Promise<void> {
    for await (const p of this.#peer.packets(this.#abort.signal)) {
      if (this.#closed) return;
      this.#syncStatus();
      this.#receive(p.peerId, p.data, p.mode, p.channel);
    }
    // The peer closed: its status tells what happened.
    if (!this.#closed) this.#syncStatus();
  }

  #receive(from: number, data: Uint8Array, mode: TransferMode, channel: number): void {
    this.#step({ type: "PacketReceived", from, data, mode, channel, now: this.#now() });
  }

  #onPeerSignal(name: (typeof PEER_SIGNALS)[number], detail: number): void {
    if (this.#closed) return;
    this.#syncStatus();
    if (name === "peer_connected") {
      this.#step({ type: "PeerConnected", peer: detail, now: this.#now() });
    } else if (name === "peer_disconnected") this.#step({ type: "PeerDisconnected", peer: detail });
  }

  /** Godot's `_update_status`: transport status changes become our signals. */
  #syncStatus(): void {
    const status = this.#peer.getConnectionStatus();
    if (status === this.#status) return;
    const last = this.#status;
    this.#status = status;
    if (status === ConnectionStatus.CONNECTED) {
      this.#step({
        type: "TransportConnected",
        uniqueId: this.#peer.getUniqueId(),
        relaySupported: this.#peer.isServerRelaySupported(),
      });
    } else if (status === ConnectionStatus.DISCONNECTED) {
      this.#emit(
        last === ConnectionStatus.CONNECTING ? "connection_failed" : "server_disconnected",
        undefined,
      );
      this.#step({ type: "TransportClosed" });
    }
  }

  /** Feeds `TimePassed` when the auth deadline is due; keeps ONE timer for the next deadline. */
  #tick(): void {
    const due = nextDeadline(this.#state);
    if (due !== undefined && due <= this.#now()) {
      this.#step({ type: "TimePassed", now: this.#now() });
      return;
    }
    if (due === this.#deadline) return;
    this.#deadline = due;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (due === undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#deadline = undefined;
      if (!this.#closed) this.#tick();
    }, Math.max(0, due - this.#now()));
  }

  #request(event: SceneEvent): GodotError {
    const reply = this.#step(event);
    if (reply) return this.#fail(reply.error, reply.message);
    this.#lastError = { error: GodotError.OK, message: "" };
    return GodotError.OK;
  }

  #fail(error: GodotError, message: string): GodotError {
    this.#lastError = { error, message };
    return error;
  }

  /** Runs one event through the rules and carries out the effects; returns a `Reply` if any. */
  #step(event: SceneEvent): (SceneEffect & { type: "Reply" }) | undefined {
    const [next, effects] = reduceScene(this.#state, event);
    this.#state = next;
    let reply: (SceneEffect & { type: "Reply" }) | undefined;
    for (const e of effects) {
      if (e.type === "Reply") reply = e;
      else this.#apply(e);
    }
    if (!this.#closed) this.#tick();
    return reply;
  }

  #apply(e: Exclude<SceneEffect, { type: "Reply" }>): void {
    switch (e.type) {
      case "Send": {
        const peer = this.#peer;
        peer.targetPeer = e.to;
        peer.transferMode = e.mode;
        peer.transferChannel = e.channel;
        if (peer.putPacket(e.data) !== GodotError.OK) {
          this.#sendFailures++;
          this.#log(`send to ${e.to} failed: ${peer.lastError.message}`);
        }
        return;
      }
      case "DisconnectTransportPeer":
        this.#peer.disconnectPeer(e.peer);
        return;
      case "Emit":
        this.#emit(e.signal, e.signal === "connected_to_server" ? undefined : e.peer);
        return;
      case "AuthReceived":
        this.#guard(`auth callback for ${e.peer}`, () => this.#authCallback?.(e.peer, e.data));
        return;
      case "PeerPacket":
        this.#asSender(e.from, () => this.#emit("peer_packet", { from: e.from, data: e.data }));
        return;
      case "RpcCalled": {
        const handler = this.#handlers.get(e.path)?.get(e.method);
        this.#asSender(e.from, () => {
          if (handler) this.#guard(`RPC ${e.path}.${e.method}`, () => handler(e.args, e.from));
          this.#emit("rpc", { from: e.from, path: e.path, method: e.method, args: e.args });
        });
        return;
      }
      case "ReplicationReceived":
        this.#emit("replication", { from: e.from, command: e.command, data: e.data });
        return;
      case "Rejected":
        this.#log(`refused a packet from ${e.from} (${e.reason}): ${e.detail}`);
        this.#emit("packet_rejected", { from: e.from, reason: e.reason, detail: e.detail });
        return;
    }
  }

  #asSender(from: number, fn: () => void): void {
    const before = this.#remoteSender;
    this.#remoteSender = from;
    try {
      fn();
    } finally {
      this.#remoteSender = before;
    }
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log(`${what} threw: ${(error as Error)?.stack ?? error}`);
    }
  }

  #emit(name: keyof SceneMultiplayerEventMap, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}

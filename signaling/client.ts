/**
 * The signaling client: joins a lobby of a Godot-demo-compatible signaling server and wires a
 * {@link WebRTCMultiplayer} to it, the way the demo's `multiplayer_client.gd` does.
 *
 * - `I: id` initializes the mesh with `initialize(id, true)` (server compatibility).
 * - Every `N: id` makes one `RTCPeerConnection` and adds it with `addPeer(connection, id)`; the
 *   side with the lower id makes the offer.
 * - Offers, answers and ICE candidates go through the server; candidates that arrive before the
 *   remote description are held and applied after it. An offer is sent without its candidates,
 *   and the offering side sends them once it has applied the answer, so that the DTLS handshake
 *   cannot overtake the answer.
 * - `D: id` removes the peer. When the server closes us because the host left, peer 1 is removed
 *   (so `server_disconnected` fires if it was connected).
 * - A connection that fails before it ever connected is set up again, up to
 *   {@link JoinOptions.setupAttempts} times: the offering side makes a fresh connection and a new
 *   offer, and the answering side takes a new offer from a peer as a restart (fresh connection).
 *   WebRTC stacks do lose a setup now and then; libdatachannel, for one, fails about one in a
 *   thousand when the DTLS handshake overtakes the remote description on the offering side.
 * - A signaling connection that ends before the lobby was sealed closes the mesh too (as the demo
 *   does); after a seal the mesh lives on without the server.
 *
 * Free of Deno-only APIs: give it a WebSocket constructor and a peer connection factory in Node
 * (`ws`, the node-datachannel adapter) or let it use the browser's globals.
 *
 * @module
 */
import { GodotError } from "../core/constants.ts";
import { isConnectionEnded } from "../core/state.ts";
import { WebRTCMultiplayer } from "../effects/multiplayer.ts";
import type { MeshOptions } from "../effects/multiplayer.ts";
import type { RTCPeerConnectionLike } from "../effects/w3c.ts";
import { TypedEventTarget } from "../effects/typed_event_target.ts";
import {
  CandidateQueue,
  type IceCandidateLike,
  type IceServer,
  type PeerConnectionConfig,
  type SignalingPeerConnection,
  withoutCandidates,
} from "../adapters/loopback.ts";
import { checkIceConfig, hasTurnServer, IceConfigError, type IceTransportPolicy } from "./ice.ts";
import {
  formatCandidate,
  formatClientMessage,
  HOST_ID,
  parseServerMessage,
  Reasons,
  type ServerMessage,
} from "./protocol.ts";

export type {
  IceCandidateLike,
  IceServer,
  PeerConnectionConfig,
  SessionDescriptionLike,
  SignalingPeerConnection,
} from "../adapters/loopback.ts";

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

/** Options of {@link joinLobby}. */
export interface JoinOptions {
  /**
   * Makes one connection per peer. Default: the global `RTCPeerConnection` when there is one
   * (browsers), else the node-datachannel adapter (Deno, Node).
   */
  createPeerConnection?: (config: PeerConnectionConfig) => ClientPeerConnection;
  /**
   * STUN/TURN servers for every connection. Default none (loopback and LAN). A TURN server needs
   * `username` and `credential` (see `turnRestCredentials` for time-limited ones). Checked before
   * anything connects: a malformed list rejects `joinLobby` with an {@link IceConfigError}
   * (`code` `ERR_INVALID_PARAMETER`).
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
  /** A mesh to wire (it is initialized by the client), or options for a new one. */
  mesh?: WebRTCMultiplayer | MeshOptions;
  /** `unreliableLifetime` passed to `addPeer` (ms). Default 1, as the demo. */
  unreliableLifetime?: number;
  /** Time allowed from connecting to `J:` before `joinLobby` rejects, ms. Default 10000. */
  joinTimeoutMs?: number;
  /**
   * How many times a connection to one peer is set up before giving up, when it fails before it
   * ever connected (`"failed"`, `"disconnected"` or `"closed"`). Default 3; 1 disables retries.
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

/** The events of a {@link LobbyClient}. */
export interface LobbyClientEventMap {
  /** `J:` arrived; `detail` is the lobby name. */
  lobby_joined: CustomEvent<string>;
  /** The host sealed the lobby. */
  lobby_sealed: CustomEvent<undefined>;
  /** A frame could not be understood or a negotiation step failed. Nothing is closed. */
  signaling_error: CustomEvent<SignalingErrorDetail>;
  /** The signaling connection ended; `detail` has the close code and reason. */
  disconnected: CustomEvent<DisconnectDetail>;
}

interface Negotiation {
  readonly pc: ClientPeerConnection;
  readonly queue: CandidateQueue;
  readonly onCandidate: (event: Event) => void;
  readonly onState: () => void;
  /** 1 for the first setup of this peer's connection, 2 for the first retry, ... */
  readonly attempt: number;
  /** The setup timeout ({@link JoinOptions.setupTimeoutMs}); cleared once connected or forgotten. */
  timer?: ReturnType<typeof setTimeout>;
  /** Whether a remote offer was applied (a further offer then restarts the setup). */
  offered: boolean;
  /** Whether the connection reached `"connected"` (it is then never set up again). */
  connected: boolean;
  /** Whether its setup was seen failing (handled once). */
  failed: boolean;
  /**
   * Our candidates, held while we offer until the answer is applied (then undefined): the answerer
   * must not start connectivity checks before (see `withoutCandidates`).
   */
  held: string[] | undefined;
  /** Serializes this peer's async steps (descriptions, candidates) in arrival order. */
  chain: Promise<void>;
}

const OPEN = 1;

/**
 * A joined lobby: the mesh it drives, and the signaling connection's state and events.
 * Made by {@link joinLobby}.
 */
export class LobbyClient extends TypedEventTarget<LobbyClientEventMap> {
  /** The mesh wired to the lobby (server compatibility; the host is peer 1). */
  readonly mesh: WebRTCMultiplayer;
  #ws: WebSocketLike;
  #factory: (config: PeerConnectionConfig) => ClientPeerConnection;
  #iceServers: IceServer[];
  #policy: IceTransportPolicy;
  #relayFallback: boolean;
  #setupTimeoutMs: number;
  #lifetime: number;
  #setupAttempts: number;
  #peers = new Map<number, Negotiation>();
  /** Peers given up after `setupAttempts` failed setups: their late signaling is ignored. */
  #abandoned = new Set<number>();
  #lobby = "";
  #id = 0;
  #sealed = false;
  #closedByUs = false;
  #disconnect: DisconnectDetail | undefined;
  #closed: Promise<DisconnectDetail>;
  #resolveClosed!: (detail: DisconnectDetail) => void;

  /** Use {@link joinLobby}. */
  constructor(
    ws: WebSocketLike,
    mesh: WebRTCMultiplayer,
    factory: (config: PeerConnectionConfig) => ClientPeerConnection,
    options: JoinOptions,
  ) {
    super();
    this.mesh = mesh;
    this.#ws = ws;
    this.#factory = factory;
    this.#iceServers = options.iceServers ?? [];
    this.#policy = options.iceTransportPolicy ?? "all";
    this.#relayFallback = (options.relayFallback ?? true) && hasTurnServer(this.#iceServers);
    this.#setupTimeoutMs = options.setupTimeoutMs ?? 20000;
    this.#lifetime = options.unreliableLifetime ?? 1;
    this.#setupAttempts = Math.max(1, Math.floor(options.setupAttempts ?? 3));
    this.#closed = new Promise((r) => this.#resolveClosed = r);
    ws.onmessage = (event) => this.#onFrame(event.data);
    ws.onclose = (event) => this.#onClose(event.code, event.reason);
    ws.onerror = () => {};
  }

  /** The lobby name (`""` until `J:` arrived). */
  get lobby(): string {
    return this.#lobby;
  }

  /** Our id in the lobby (1 for the host; 0 until `I:` arrived). */
  get id(): number {
    return this.#id;
  }

  /** Whether the host sealed the lobby. */
  get sealed(): boolean {
    return this.#sealed;
  }

  /** Close code and reason once the signaling connection ended, else undefined. */
  get disconnectReason(): DisconnectDetail | undefined {
    return this.#disconnect;
  }

  /** Settles with the close code and reason when the signaling connection ends. */
  get closed(): Promise<DisconnectDetail> {
    return this.#closed;
  }

  /** Seals the lobby (host only; the server closes anyone else who tries). */
  seal(): void {
    this.#send(formatClientMessage({ type: "seal" }));
  }

  /**
   * Closes the signaling connection (code 1000) and the mesh. Resolves once the socket closed.
   * Safe to call twice.
   */
  close(): Promise<DisconnectDetail> {
    this.#closedByUs = true;
    this.mesh.close();
    this.#forgetAll();
    if (this.#disconnect === undefined) {
      try {
        this.#ws.close(1000, "Client closed");
      } catch {
        // already closing
      }
    }
    return this.#closed;
  }

  #emit<K extends keyof LobbyClientEventMap>(
    type: K,
    detail: LobbyClientEventMap[K]["detail"],
  ): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #error(message: string, peerId?: number): void {
    this.#emit("signaling_error", { message, peerId });
  }

  #send(text: string): void {
    if (this.#ws.readyState !== OPEN) return;
    try {
      this.#ws.send(text);
    } catch (error) {
      this.#error(`send failed: ${error}`);
    }
  }

  #onFrame(data: unknown): void {
    if (typeof data !== "string") {
      this.#error("binary frame from the server (the protocol is text only)");
      return;
    }
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.#error(`unreadable frame ${JSON.stringify(data.slice(0, 60))}: ${parsed.error}`);
      return;
    }
    this.#handle(parsed.value);
  }

  #handle(msg: ServerMessage): void {
    switch (msg.type) {
      case "id": {
        if (this.#id !== 0) return this.#error(`second id ${msg.id} (already ${this.#id})`);
        this.#id = msg.id;
        if (this.mesh.initialize(msg.id, true) !== GodotError.OK) {
          this.#error(`initialize(${msg.id}) failed: ${this.mesh.lastError.message}`);
        }
        return;
      }
      case "joined":
        this.#lobby = msg.lobby;
        this.#emit("lobby_joined", msg.lobby);
        return;
      case "sealed":
        this.#sealed = true;
        this.#emit("lobby_sealed", undefined);
        return;
      case "peer_connected":
        return this.#addPeer(msg.id);
      case "peer_disconnected":
        this.#forget(msg.id);
        this.#abandoned.delete(msg.id);
        if (this.mesh.hasPeer(msg.id)) this.mesh.removePeer(msg.id);
        return;
      case "offer": {
        // A further offer from a peer restarts the setup: the offering side gave up on the
        // previous connection.
        const previous = this.#peers.get(msg.from);
        if (previous && (previous.offered || isConnectionEnded(previous.pc.connectionState))) {
          this.#restart(msg.from, previous);
        }
        const current = this.#peers.get(msg.from);
        if (current) current.offered = true;
        return this.#step(msg.from, async (n) => {
          await n.pc.setRemoteDescription({ type: msg.type, sdp: msg.sdp });
          await n.queue.ready();
          await n.pc.setLocalDescription(await n.pc.createAnswer());
          this.#sendDescription(msg.from, n.pc);
        });
      }
      case "answer":
        return this.#step(msg.from, async (n) => {
          await n.pc.setRemoteDescription({ type: msg.type, sdp: msg.sdp });
          await n.queue.ready();
          // Our candidates go out only now (see withoutCandidates).
          for (const text of n.held ?? []) this.#send(text);
          n.held = undefined;
        });
      case "candidate":
        return this.#step(msg.from, (n) =>
          n.queue.add({
            candidate: msg.candidate,
            sdpMid: msg.mid,
            sdpMLineIndex: msg.index,
          }));
    }
  }

  #addPeer(id: number): void {
    if (this.#id === 0) return this.#error(`N: ${id} before I:`, id);
    if (this.#peers.has(id)) return this.#error(`peer ${id} announced twice`, id);
    this.#connect(id, 1);
  }

  /** Makes a connection for peer `id`, adds it to the mesh and, if ours to make, offers. */
  #connect(id: number, attempt: number): void {
    let pc: ClientPeerConnection;
    // A retried setup goes through the relay when it may (see JoinOptions.relayFallback).
    const policy = attempt > 1 && this.#relayFallback ? "relay" : this.#policy;
    try {
      pc = this.#factory({ iceServers: this.#iceServers, iceTransportPolicy: policy });
    } catch (error) {
      return this.#error(`cannot create a connection for peer ${id}: ${error}`, id);
    }
    if (this.mesh.addPeer(pc, id, this.#lifetime) !== GodotError.OK) {
      try {
        pc.close();
      } catch {
        // nothing to release
      }
      return this.#error(`addPeer(${id}) failed: ${this.mesh.lastError.message}`, id);
    }
    const onCandidate = (event: Event) => {
      const c = (event as Event & { candidate?: IceCandidateLike | null }).candidate;
      if (!c || !c.candidate) return; // end of candidates: the demo protocol has no frame for it
      const candidate = c.candidate.startsWith("a=") ? c.candidate.slice(2) : c.candidate;
      const text = formatCandidate(id, c.sdpMid || "0", c.sdpMLineIndex ?? 0, candidate);
      if (n.held) n.held.push(text);
      else this.#send(text);
    };
    pc.addEventListener("icecandidate", onCandidate);
    const onState = () => {
      if (this.#peers.get(id) !== n) return;
      const state = pc.connectionState;
      if (state === "connected") {
        n.connected = true;
        clearTimeout(n.timer);
      }
      if (n.connected || n.failed || !isConnectionEnded(state)) return;
      setupFailed(`${state} during setup`);
    };
    /** `reason`: what happened, e.g. "failed during setup". */
    const setupFailed = (reason: string) => {
      n.failed = true;
      clearTimeout(n.timer);
      // The setup failed. The offering side starts over; the answering side waits for its offer.
      // After the last attempt both sides give up and release the connection.
      if (this.#closedByUs || this.#ws.readyState !== OPEN) return;
      if (attempt >= this.#setupAttempts) {
        this.#forget(id);
        this.#abandoned.add(id);
        if (this.mesh.hasPeer(id)) this.mesh.removePeer(id);
        return this.#error(
          `connection to peer ${id} failed ${attempt} times (last: ${reason}); giving up`,
          id,
        );
      }
      if (id < this.#id) return;
      this.#error(`connection to peer ${id} ${reason}; setting it up again`, id);
      queueMicrotask(() => {
        if (this.#peers.get(id) === n) this.#restart(id, n);
      });
    };
    pc.addEventListener("connectionstatechange", onState);
    const onTimeout = () => {
      if (this.#peers.get(id) !== n || n.connected || n.failed) return;
      setupFailed(`not connected ${this.#setupTimeoutMs} ms into its setup`);
    };
    const queue = new CandidateQueue((c) => pc.addIceCandidate(c));
    const n: Negotiation = {
      pc,
      queue,
      onCandidate,
      onState,
      attempt,
      offered: false,
      connected: false,
      failed: false,
      held: id > this.#id ? [] : undefined,
      chain: Promise.resolve(),
    };
    this.#peers.set(id, n);
    n.timer = setTimeout(onTimeout, this.#setupTimeoutMs);
    if (id > this.#id) {
      this.#step(id, async () => {
        await pc.setLocalDescription(await pc.createOffer());
        this.#sendDescription(id, pc);
      });
    }
  }

  #sendDescription(id: number, pc: ClientPeerConnection): void {
    const desc = pc.localDescription;
    if (!desc?.sdp) return this.#error(`no local description for peer ${id}`, id);
    // An offer goes without its candidates; they follow once the answer is applied.
    if (desc.type === "offer") this.#send(`O: ${id}\n${withoutCandidates(desc.sdp)}`);
    else this.#send(`A: ${id}\n${desc.sdp}`);
  }

  /** Runs one negotiation step for a peer after its previous steps; failures become events. */
  #step(id: number, run: (n: Negotiation) => Promise<void>): void {
    const n = this.#peers.get(id);
    if (!n) {
      if (!this.#abandoned.has(id)) this.#error(`signaling for unknown peer ${id}`, id);
      return;
    }
    n.chain = n.chain.then(async () => {
      // Removed or replaced meanwhile, or closed (a failed setup is started over on its own).
      const done = () => this.#peers.get(id) !== n || n.pc.connectionState === "closed";
      if (done()) return;
      try {
        await run(n);
      } catch (error) {
        if (!done()) this.#error(`negotiation with peer ${id}: ${error}`, id);
      }
    });
  }

  /** Replaces the connection of peer `id` (negotiation `n`) with a fresh one. */
  #restart(id: number, n: Negotiation): void {
    this.#forget(id);
    if (this.mesh.hasPeer(id)) this.mesh.removePeer(id);
    else {
      try {
        n.pc.close();
      } catch {
        // already closed
      }
    }
    this.#connect(id, n.attempt + 1);
  }

  #forget(id: number): void {
    const n = this.#peers.get(id);
    if (!n) return;
    this.#peers.delete(id);
    clearTimeout(n.timer);
    n.pc.removeEventListener("icecandidate", n.onCandidate);
    n.pc.removeEventListener("connectionstatechange", n.onState);
  }

  #forgetAll(): void {
    for (const id of [...this.#peers.keys()]) this.#forget(id);
  }

  #onClose(code: number, reason: string): void {
    if (this.#disconnect !== undefined) return;
    const detail = { code, reason };
    this.#disconnect = detail;
    if (!this.#closedByUs) {
      if (reason === Reasons.HOST_DISCONNECTED && this.mesh.hasPeer(HOST_ID)) {
        this.#forget(HOST_ID);
        this.mesh.removePeer(HOST_ID);
      }
      if (!this.#sealed) {
        this.#forgetAll();
        this.mesh.close();
      }
    }
    this.#emit("disconnected", detail);
    this.#resolveClosed(detail);
  }
}

/**
 * The extension of this package's own modules where this file runs: `.ts` from source (Deno, JSR),
 * `.js` once compiled (the npm package, JSR's npm layer).
 */
const EXT = /\.tsx?$/.test(new URL(import.meta.url).pathname) ? ".ts" : ".js";

/**
 * Loads a module only Deno and Node need (`ws`, the node-datachannel adapter). The specifier is
 * deliberately not a literal: bundlers for browsers, which always have the globals and never take
 * this path, must not follow it and pull `ws` or node-datachannel in. Relative specifiers resolve
 * against this file.
 */
function importRuntimeOnly(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier);
}

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  // Node 20 has no global WebSocket: use the `ws` package.
  try {
    const mod = await importRuntimeOnly("ws");
    return (mod.WebSocket ?? mod.default) as WebSocketConstructor;
  } catch (error) {
    throw new TypeError(`no WebSocket in this runtime and the ws package failed to load: ${error}`);
  }
}

async function defaultFactory(): Promise<(config: PeerConnectionConfig) => ClientPeerConnection> {
  const Native = (globalThis as {
    RTCPeerConnection?: new (config: PeerConnectionConfig) => ClientPeerConnection;
  }).RTCPeerConnection;
  if (Native) return (config) => new Native(config);
  // Deno and Node: the node-datachannel adapter, loaded only when needed (not in browsers).
  try {
    const mod = await importRuntimeOnly(`../adapters/node_datachannel${EXT}`);
    return mod.createPeerConnection as (config: PeerConnectionConfig) => ClientPeerConnection;
  } catch (error) {
    throw new TypeError(
      `no RTCPeerConnection in this runtime; pass options.createPeerConnection (${error})`,
    );
  }
}

/**
 * Connects to a signaling server and joins a lobby (`""`: create one and be its host, id 1).
 * Resolves once the server confirmed the join (`J:`), with the mesh initialized and the peers
 * already in the lobby being negotiated. Rejects if the connection fails or is closed first (for
 * example 4000 "Lobby does not exists").
 *
 * @example
 * ```ts
 * import { joinLobby } from "./client.ts";
 * import { serveSignalingDeno } from "./server_deno.ts";
 * const server = await serveSignalingDeno({ port: 0 });
 * const host = await joinLobby(server.url);
 * console.log(host.id, host.lobby.length); // 1 16
 * await host.close();
 * await server.shutdown();
 * ```
 */
export async function joinLobby(
  url: string,
  lobby = "",
  options: JoinOptions = {},
): Promise<LobbyClient> {
  const problem = checkIceConfig(options.iceServers, options.iceTransportPolicy);
  if (problem) throw new IceConfigError(problem);
  const WS = options.WebSocket ?? await defaultWebSocket();
  const factory = options.createPeerConnection ?? await defaultFactory();
  const mesh = options.mesh instanceof WebRTCMultiplayer
    ? options.mesh
    : new WebRTCMultiplayer(options.mesh);
  const ws = new WS(url);
  const client = new LobbyClient(ws, mesh, factory, options);
  const timeoutMs = options.joinTimeoutMs ?? 10000;
  return await new Promise<LobbyClient>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      client.removeEventListener("lobby_joined", onJoined);
      client.removeEventListener("disconnected", onClosed);
    };
    const onJoined = () => {
      settle();
      resolve(client);
    };
    const onClosed = (event: Event) => {
      settle();
      const { code, reason } = (event as CustomEvent<DisconnectDetail>).detail;
      reject(new Error(`signaling connection closed before joining: ${code} ${reason}`.trim()));
    };
    client.addEventListener("lobby_joined", onJoined);
    client.addEventListener("disconnected", onClosed);
    const timer = setTimeout(() => {
      settle();
      client.close().catch(() => {});
      reject(new Error(`no answer to the join request within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onopen = () => {
      try {
        ws.send(formatClientMessage({ type: "join", lobby }));
      } catch {
        // the close event will reject
      }
    };
  });
}

/**
 * What the Godot 3 and the Godot 4 lobby clients (`client.ts`, `client_godot4.ts`) share: the
 * signaling socket, and the negotiation of one connection per peer, with its setup retries and
 * candidate handling. A {@link Dialect} supplies the rest: the protocol's codec, who offers, and
 * how the multiplayer object is set up when the server gives us our id.
 *
 * Negotiation, per announced peer:
 * - One `RTCPeerConnection`, added to the multiplayer object with `addPeer(connection, id)`; the
 *   dialect says whether we offer (Godot 3: the lower id; Godot 4: the higher id).
 * - Offers, answers and ICE candidates go through the server; candidates that arrive before the
 *   remote description are held and applied after it. An offer is sent without its candidates,
 *   and the offering side sends them once it has applied the answer, so that the DTLS handshake
 *   cannot overtake the answer.
 * - Every connection gets the same ICE options (`iceServers`, `iceTransportPolicy`), checked
 *   before anything connects (`ice.ts`: a bad configuration rejects the join with an
 *   `IceConfigError`).
 * - A connection that fails before it ever connected (`"failed"`, `"disconnected"` or `"closed"`,
 *   or not connected `setupTimeoutMs` into its setup, or with policy `"relay"` done gathering
 *   without a relay candidate: `_setup_watch.ts`) is set up again, up to `setupAttempts`
 *   times: the offering side makes a fresh connection and a new offer, and the answering side
 *   takes a new offer from a peer as a restart (fresh connection). With a TURN server and
 *   `relayFallback`, a retried setup uses policy `"relay"` on both sides (they count attempts
 *   alike). After the last attempt both sides give up and release the connection. WebRTC stacks
 *   do lose a setup now and then; libdatachannel, for one, fails about one in a thousand when the
 *   DTLS handshake overtakes the remote description on the offering side, and libjuice can fail
 *   a pair behind a symmetric NAT with policy `"all"` although the relay would work (README
 *   "Behind NAT").
 * - An offer from a peer we are offering to ourselves (a mixed lobby: Godot 3 and Godot 4 sides
 *   both offer, and the server relays only the Godot 3 side's offer) makes us the answering side
 *   for that peer from then on: a fresh connection answers it.
 * - Reconnect (the target's `reconnect` option; `_reconnect.ts`): when a connected peer is
 *   `peer_interrupted`, the side that offers for that pair restarts ICE on the live connection
 *   where both stacks can (libwebrtc, browsers), else makes a fresh connection, gives it to the
 *   target with `replacePeer(connection, id)` (no `peer_disconnected`), and offers it. The other
 *   side answers an offer with the current DTLS fingerprint on the live connection (an ICE
 *   restart), and takes one with a new fingerprint for a connected peer as a replacement (a fresh
 *   connection answers it, again through `replacePeer`). A replacement that fails is made again
 *   while the target accepts it (until its grace ends); one the target refuses (reconnect off, a
 *   peer not proven to run liveness) falls back to the setup restart above.
 * - A peer's departure removes it. When the server closes us because the host left, peer 1 is
 *   removed. A signaling connection that ends before the lobby was sealed closes the multiplayer
 *   object too (as Godot's demo does); after a seal it lives on without the server.
 *
 * @module
 */
import { GodotError } from "../core/constants.ts";
import { isConnectionEnded } from "../core/state.ts";
import { TypedEventTarget } from "../effects/typed_event_target.ts";
import type {
  ClientPeerConnection,
  DisconnectDetail,
  LobbyClientEventMap,
  PeerTarget,
  SessionOptions,
  WebSocketLike,
} from "./_session_types.ts";
import {
  CandidateQueue,
  type IceCandidateLike,
  type IceServer,
  type PeerConnectionConfig,
  withoutCandidates,
} from "../adapters/loopback.ts";
import { hasTurnServer, type IceTransportPolicy } from "./ice.ts";
import { canRestartIce, isIceRestart } from "./_reconnect.ts";
import { SetupWatch } from "./_setup_watch.ts";
import { HOST_ID, Reasons, type ServerMessage } from "./protocol.ts";

interface Negotiation {
  readonly pc: ClientPeerConnection;
  readonly queue: CandidateQueue;
  readonly onCandidate: (event: Event) => void;
  /** Whether and how its setup succeeded or failed (`_setup_watch.ts`). */
  readonly watch: SetupWatch;
  /** 1 for the first setup of this peer's connection, 2 for the first retry, ... */
  readonly attempt: number;
  /** Whether we made the offer for this connection. */
  readonly offerer: boolean;
  /** Whether this connection replaces an earlier one of the same peer (`replacePeer`). */
  readonly replacing: boolean;
  /** Whether a remote offer was applied (a further offer then restarts the setup). */
  offered: boolean;
  /**
   * Our candidates, held while we offer until the answer is applied (then undefined): the answerer
   * must not start connectivity checks before (see `withoutCandidates`).
   */
  held: string[] | undefined;
  /** Serializes this peer's async steps (descriptions, candidates) in arrival order. */
  chain: Promise<void>;
}

export type {
  ClientPeerConnection,
  CloseEventLike,
  Dialect,
  DisconnectDetail,
  LobbyClientEventMap,
  PeerTarget,
  SessionOptions,
  SignalingErrorDetail,
  WebSocketConstructor,
  WebSocketLike,
} from "./_session_types.ts";
import type { Dialect } from "./_session_types.ts";

const OPEN = 1;

/**
 * A joined lobby: the signaling connection's state and events, and the negotiation of every
 * peer's connection. Subclassed by each protocol's client.
 */
export class LobbySession<T extends PeerTarget> extends TypedEventTarget<LobbyClientEventMap> {
  #target: T;
  #dialect: Dialect<T>;
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
  /** Peers whose `replacePeer` call is under way (its own `peer_interrupted` is not a new one). */
  #replacing = new Set<number>();
  /** Peers that offered while we offered to them (a mixed lobby): we answer them from then on. */
  #answerOnly = new Set<number>();
  #lobby = "";
  #id = 0;
  #sealed = false;
  #closedByUs = false;
  #disconnect: DisconnectDetail | undefined;
  #closed: Promise<DisconnectDetail>;
  #resolveClosed!: (detail: DisconnectDetail) => void;

  /** Use the protocol's join function (`joinLobby`, `joinLobbyGodot4`). */
  constructor(
    ws: WebSocketLike,
    target: T,
    dialect: Dialect<T>,
    factory: (config: PeerConnectionConfig) => ClientPeerConnection,
    options: SessionOptions,
  ) {
    super();
    this.#target = target;
    this.#dialect = dialect;
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
    target.addEventListener?.("peer_interrupted", (event) => {
      this.#onInterrupted((event as CustomEvent<number>).detail);
    });
  }

  /** What the session drives (the subclass names it `mesh` or `peer`). */
  protected get target(): T {
    return this.#target;
  }

  /** The lobby name (`""` until the join was confirmed). */
  get lobby(): string {
    return this.#lobby;
  }

  /** Our id in the lobby (1 for the host; 0 until the server gave it). */
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
    this.#send(this.#dialect.encode({ type: "seal" }));
  }

  /**
   * Closes the signaling connection (code 1000) and the multiplayer object. Resolves once the
   * socket closed. Safe to call twice.
   */
  close(): Promise<DisconnectDetail> {
    this.#closedByUs = true;
    this.#target.close();
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

  /** Sends the join request (when the socket opened). */
  sendJoin(lobby: string, mesh: boolean): void {
    this.#ws.send(this.#dialect.encode({ type: "join", lobby, mesh }));
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

  #relay(command: "O" | "A" | "C", dest: number, payload: string): void {
    this.#send(this.#dialect.encode({ type: "relay", command, dest, payload }));
  }

  #onFrame(data: unknown): void {
    if (typeof data !== "string") {
      this.#error("binary frame from the server (the protocol is text only)");
      return;
    }
    const parsed = this.#dialect.decode(data);
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
        if (this.#dialect.start(this.#target, msg.id, msg.mesh ?? true) !== GodotError.OK) {
          this.#error(`setting up as peer ${msg.id} failed: ${this.#target.lastError.message}`);
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
        this.#answerOnly.delete(msg.id);
        if (this.#target.hasPeer(msg.id)) this.#target.removePeer(msg.id);
        return;
      case "offer": {
        // A further offer from a peer restarts the setup: the offering side gave up on the
        // previous connection. An offer while we offer too: the peer's protocol has the other
        // rule (a mixed lobby), and its offer is the one the server relays: we answer.
        const previous = this.#peers.get(msg.from);
        if (previous?.watch.connected && isIceRestart(previous.pc, msg.sdp)) {
          // The live connection renegotiated (an ICE restart, `_reconnect.ts`): answered on it.
          return this.#step(msg.from, async (n) => {
            await n.pc.setRemoteDescription({ type: msg.type, sdp: msg.sdp });
            await n.pc.setLocalDescription(await n.pc.createAnswer());
            this.#sendDescription(msg.from, n.pc);
          });
        }
        if (
          previous && (previous.watch.connected || previous.replacing) &&
          this.#replace(msg.from, previous.watch.connected ? 1 : previous.attempt + 1)
        ) {
          // A connected peer's side made a fresh connection: ours replaces the old one too.
        } else if (
          previous && previous.offerer && !previous.offered && previous.held !== undefined
        ) {
          this.#answerOnly.add(msg.from);
          // A change of role, not a failed setup: the attempt (and so the policy) stays.
          this.#restart(msg.from, previous, previous.attempt);
        } else if (
          previous && (previous.offered || isConnectionEnded(previous.pc.connectionState))
        ) {
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
    if (this.#id === 0) return this.#error(`peer ${id} announced before our id`, id);
    if (this.#peers.has(id)) return this.#error(`peer ${id} announced twice`, id);
    this.#connect(id, 1);
  }

  /** A fresh connection for peer `id`'s setup `attempt`, or undefined (an error was reported). */
  #newConnection(id: number, attempt: number): ClientPeerConnection | undefined {
    try {
      return this.#factory({
        iceServers: this.#iceServers,
        iceTransportPolicy: this.#policyOf(attempt),
      });
    } catch (error) {
      this.#error(`cannot create a connection for peer ${id}: ${error}`, id);
      return undefined;
    }
  }

  /** The ICE policy of setup `attempt`: a retry goes through the relay when it may (`relayFallback`). */
  #policyOf(attempt: number): IceTransportPolicy {
    return attempt > 1 && this.#relayFallback ? "relay" : this.#policy;
  }

  /** Makes a connection for peer `id`, adds it to the target and, if ours to make, offers. */
  #connect(id: number, attempt: number): void {
    const pc = this.#newConnection(id, attempt);
    if (pc === undefined) return;
    if (this.#target.addPeer(pc, id, this.#lifetime) !== GodotError.OK) {
      closeQuietly(pc);
      return this.#error(`addPeer(${id}) failed: ${this.#target.lastError.message}`, id);
    }
    this.#negotiate(id, pc, attempt, false);
  }

  /**
   * Replaces the connection of connected peer `id` with a fresh one through the target's
   * `replacePeer` (reconnect), set up as `attempt` of the replacement; offers it if we offer to
   * that peer. False (nothing changed) when the target has no `replacePeer` or refuses it.
   */
  #replace(id: number, attempt: number): boolean {
    if (this.#target.replacePeer === undefined || !this.#target.hasPeer(id)) return false;
    const pc = this.#newConnection(id, attempt);
    if (pc === undefined) return false;
    // `replacePeer` interrupts a peer that was not yet: that signal must not start another one.
    this.#replacing.add(id);
    let replaced: GodotError;
    try {
      replaced = this.#target.replacePeer(pc, id);
    } finally {
      this.#replacing.delete(id);
    }
    if (replaced !== GodotError.OK) {
      closeQuietly(pc);
      this.#error(`replacePeer(${id}) refused: ${this.#target.lastError.message}`, id);
      return false;
    }
    this.#forget(id);
    this.#negotiate(id, pc, attempt, true);
    return true;
  }

  /** Rule of reconnect: the offering side of an interrupted pair replaces its connection. */
  #onInterrupted(id: number): void {
    const n = this.#peers.get(id);
    // A replacement under way is made again by its own failure, not by this signal.
    if (n === undefined || !n.offerer || !n.watch.connected || this.#replacing.has(id)) return;
    if (this.#closedByUs || this.#ws.readyState !== OPEN) return;
    if (canRestartIce(n.pc)) {
      this.#error(`peer ${id} interrupted; restarting ICE`, id);
      return this.#step(id, async () => {
        // Our candidates wait for the answer, as in a first setup (see withoutCandidates).
        n.held ??= [];
        const createOffer = n.pc.createOffer as (options?: object) => Promise<unknown>;
        await n.pc.setLocalDescription(await createOffer.call(n.pc, { iceRestart: true }));
        this.#sendDescription(id, n.pc);
      });
    }
    this.#error(`peer ${id} interrupted; replacing its connection`, id);
    this.#replace(id, 1);
  }

  /** Negotiates `pc`, peer `id`'s connection (just added or replaced), offering if ours to. */
  #negotiate(id: number, pc: ClientPeerConnection, attempt: number, replacing: boolean): void {
    const offerer = !this.#answerOnly.has(id) && this.#dialect.offersTo(this.#id, id);
    const onCandidate = (event: Event) => {
      const c = (event as Event & { candidate?: IceCandidateLike | null }).candidate;
      if (!c || !c.candidate) return; // end of candidates: the demo protocol has no frame for it
      const candidate = c.candidate.startsWith("a=") ? c.candidate.slice(2) : c.candidate;
      const text = this.#dialect.encode({
        type: "relay",
        command: "C",
        dest: id,
        payload: `${c.sdpMid || "0"}\n${c.sdpMLineIndex ?? 0}\n${candidate}`,
      });
      if (n.held) n.held.push(text);
      else this.#send(text);
    };
    pc.addEventListener("icecandidate", onCandidate);
    /** `reason`: what happened, e.g. "failed during setup". */
    const setupFailed = (reason: string) => {
      if (this.#peers.get(id) !== n) return;
      // The setup failed. The offering side starts over; the answering side waits for its offer.
      // After the last attempt both sides give up and release the connection.
      if (this.#closedByUs || this.#ws.readyState !== OPEN) return;
      if (replacing) {
        // A replacement is made again while the target accepts it (its grace bounds it).
        if (!n.offerer) return;
        this.#error(`replacement connection to peer ${id} ${reason}; replacing it again`, id);
        queueMicrotask(() => {
          if (this.#peers.get(id) === n && !this.#replace(id, attempt + 1)) {
            this.#forget(id);
            if (this.#target.hasPeer(id)) this.#target.removePeer(id);
          }
        });
        return;
      }
      if (attempt >= this.#setupAttempts) {
        this.#forget(id);
        this.#abandoned.add(id);
        if (this.#target.hasPeer(id)) this.#target.removePeer(id);
        return this.#error(
          `connection to peer ${id} failed ${attempt} times (last: ${reason}); giving up`,
          id,
        );
      }
      if (!n.offerer) return;
      this.#error(`connection to peer ${id} ${reason}; setting it up again`, id);
      queueMicrotask(() => {
        if (this.#peers.get(id) === n) this.#restart(id, n);
      });
    };
    const queue = new CandidateQueue((c) => pc.addIceCandidate(c));
    const n: Negotiation = {
      pc,
      queue,
      onCandidate,
      watch: new SetupWatch(
        pc,
        { timeoutMs: this.#setupTimeoutMs, policy: this.#policyOf(attempt) },
        setupFailed,
      ),
      attempt,
      offerer,
      replacing,
      offered: false,
      held: offerer ? [] : undefined,
      chain: Promise.resolve(),
    };
    this.#peers.set(id, n);
    if (offerer) {
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
    if (desc.type === "offer") this.#relay("O", id, withoutCandidates(desc.sdp));
    else this.#relay("A", id, desc.sdp);
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

  /**
   * Replaces the connection of peer `id` (negotiation `n`) with a fresh one, set up as `attempt`
   * (by default the next one).
   */
  #restart(id: number, n: Negotiation, attempt = n.attempt + 1): void {
    this.#forget(id);
    if (this.#target.hasPeer(id)) this.#target.removePeer(id);
    else {
      try {
        n.pc.close();
      } catch {
        // already closed
      }
    }
    this.#connect(id, attempt);
  }

  #forget(id: number): void {
    const n = this.#peers.get(id);
    if (!n) return;
    this.#peers.delete(id);
    n.watch.stop();
    n.pc.removeEventListener("icecandidate", n.onCandidate);
  }

  #forgetAll(): void {
    for (const id of [...this.#peers.keys()]) this.#forget(id);
  }

  #onClose(code: number, reason: string): void {
    if (this.#disconnect !== undefined) return;
    const detail = { code, reason };
    this.#disconnect = detail;
    if (!this.#closedByUs) {
      if (reason === Reasons.HOST_DISCONNECTED && this.#target.hasPeer(HOST_ID)) {
        this.#forget(HOST_ID);
        this.#target.removePeer(HOST_ID);
      }
      if (!this.#sealed) {
        this.#forgetAll();
        this.#target.close();
      }
    }
    this.#emit("disconnected", detail);
    this.#resolveClosed(detail);
  }
}

function closeQuietly(pc: ClientPeerConnection): void {
  try {
    pc.close();
  } catch {
    // nothing to release
  }
}

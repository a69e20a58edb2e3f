/**
 * One web demo participant, without any DOM: joins a lobby, keeps per-peer counters, answers and
 * sends pings, sends its dot and chat, and describes everything as plain JSON
 * ({@link MeshSnapshot}). The page (`web/app.ts`) draws it; the server-side demo peers
 * (`demo/web_peer.ts`) print it; the browser test reads both.
 *
 * Either protocol: Godot 3 (`joinLobby`, a `WebRTCMultiplayer` mesh) or Godot 4
 * (`joinLobbyGodot4`, a `WebRTCMultiplayerPeer`: mesh, or server/client in a client/server lobby),
 * chosen by the `protocol` option; both can share a mesh lobby.
 *
 * Channels: chat on the reliable one, the dot (game state) on the unreliable one, pings and pongs
 * on the unreliable-ordered one (a ping from the terminal demo, which uses the reliable one, is
 * answered on its own channel).
 *
 * @module
 */
import { TransferMode } from "../core/constants.ts";
import type { WebRTCMultiplayer } from "../effects/multiplayer.ts";
import type { WebRTCMultiplayerPeer } from "../effects/multiplayer_peer.ts";
import { joinLobby, type JoinOptions, LobbyClient } from "../signaling/client.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../signaling/client_godot4.ts";
import type { Protocol } from "../signaling/codec.ts";
import { decodeWeb, encodeWeb, type WebPacket } from "./protocol.ts";
import { pairTypes } from "../effects/candidate_pair.ts";

/** What a snapshot says about one peer. */
export interface PeerSnapshot {
  readonly id: number;
  /** `peer_connected` was emitted and `peer_disconnected` was not (yet). */
  readonly connected: boolean;
  /** `peer_disconnected` was emitted for it. */
  readonly left: boolean;
  /** The connection's `connectionState` (`"gone"` once removed from the mesh). */
  readonly connectionState: string;
  /** `readyState` of the `[reliable, ordered, unreliable]` channels (`"gone"` once removed). */
  readonly channels: readonly [string, string, string];
  /** Packets received from it, by transfer mode `[unreliable, ordered, reliable]`. */
  readonly in: readonly [number, number, number];
  /** Packets sent to it, by transfer mode `[unreliable, ordered, reliable]`. */
  readonly out: readonly [number, number, number];
  /** Last round-trip time in ms, or null before the first pong. */
  readonly rtt: number | null;
  /** The selected ICE candidate pair's types, ours first (`"srflx↔relay"`), once connected. */
  readonly candidates: string | null;
  /** Its dot (0..1), or null before the first one. */
  readonly dot: { readonly x: number; readonly y: number } | null;
}

/** One chat line. */
export interface ChatLine {
  /** Sender's id (our own id for what we said). */
  readonly from: number;
  readonly text: string;
  /** `Date.now()` when it was sent or received. */
  readonly at: number;
}

/** Everything a session knows, as JSON. */
export interface MeshSnapshot {
  readonly id: number;
  readonly lobby: string;
  /** The signaling protocol this session speaks. */
  readonly protocol: Protocol;
  /** `"mesh"`, or in a client/server lobby `"server"` (the host) or `"client"`. */
  readonly role: "mesh" | "server" | "client";
  /** `"joining"`, `"joined"`, `"sealed"` or `"closed: <code> <reason>"` (signaling). */
  readonly signaling: string;
  /** Mesh connection status (0 disconnected, 1 connecting, 2 connected). */
  readonly status: number;
  /** Every peer ever seen, ascending id. */
  readonly peers: readonly PeerSnapshot[];
  /** Ids currently connected, ascending. */
  readonly connected: readonly number[];
  /** Ids for which `peer_disconnected` was emitted, in order. */
  readonly disconnected: readonly number[];
  /** The last chat lines, oldest first. */
  readonly chat: readonly ChatLine[];
  /** The last events, readable, oldest first. */
  readonly log: readonly string[];
  /** Our own dot (0..1). */
  readonly dot: { readonly x: number; readonly y: number };
}

/** The test hooks the demo page puts on `window` (see `web/app.ts`). */
export interface PageHooks {
  /** The page's session as JSON, or null before joining. */
  meshState(): MeshSnapshot | null;
  /**
   * Joins a lobby (`""` creates one); resolves with the first snapshot. `protocol` and
   * `clientServer` default to the page's switch.
   */
  meshJoin(
    lobby: string,
    options?: { protocol?: Protocol; clientServer?: boolean },
  ): Promise<MeshSnapshot>;
  /** Says something in the chat; returns to how many peers it went. */
  meshSay(text: string): number;
  /** Leaves the lobby. */
  meshLeave(): Promise<void>;
}

/** Options of {@link MeshSession.join}. */
export interface SessionOptions extends Omit<JoinOptions, "mesh"> {
  /** The signaling protocol: `"godot3"` (default) or `"godot4"`. */
  protocol?: Protocol;
  /** Godot 4, when creating a lobby: a client/server one (the host is the server). */
  clientServer?: boolean;
  /** Dot updates per second on the unreliable channel. Default 20. */
  dotRate?: number;
  /** Ping interval, ms. Default 500. */
  pingIntervalMs?: number;
  /** Our dot position now (0..1); called at `dotRate`. Default: the last {@link MeshSession.moveDot}. */
  position?: (now: number) => { x: number; y: number };
  /** Called with every chat line received or said. */
  onChat?: (line: ChatLine) => void;
  /** Called with every event line as it is added to the log. */
  onEvent?: (line: string) => void;
}

interface PeerRecord {
  id: number;
  connected: boolean;
  left: boolean;
  in: [number, number, number];
  out: [number, number, number];
  rtt: number | null;
  dot: { x: number; y: number } | null;
}

const KEEP_CHAT = 100;
const KEEP_LOG = 100;

/**
 * A web demo participant. Make one with {@link MeshSession.join}; end it with
 * {@link MeshSession.close}.
 *
 * @example
 * ```ts
 * import { MeshSession } from "./session.ts";
 * import { serveSignalingDeno } from "../signaling/server_deno.ts";
 * import { createPeerConnection } from "../adapters/node_datachannel.ts";
 * const server = await serveSignalingDeno({ port: 0 });
 * const host = await MeshSession.join(server.url, "", { createPeerConnection });
 * console.log(host.snapshot().id); // 1
 * await host.close();
 * await server.shutdown();
 * ```
 */
export class MeshSession {
  /** The signaling client (and through it, the mesh or peer). */
  readonly client: LobbyClient | Godot4LobbyClient;
  /** The Godot 3 mesh or the Godot 4 peer the client drives. */
  readonly net: WebRTCMultiplayer | WebRTCMultiplayerPeer;
  #peers = new Map<number, PeerRecord>();
  #disconnected: number[] = [];
  #chat: ChatLine[] = [];
  #log: string[] = [];
  #dot = { x: 0.5, y: 0.5 };
  #position: ((now: number) => { x: number; y: number }) | undefined;
  #onChat: ((line: ChatLine) => void) | undefined;
  #onEvent: ((line: string) => void) | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #stopReading = new AbortController();
  #reading: Promise<void>;
  #closing: Promise<void> | undefined;

  /** Use {@link MeshSession.join}. */
  constructor(client: LobbyClient | Godot4LobbyClient, options: SessionOptions = {}) {
    this.client = client;
    this.net = client instanceof LobbyClient ? client.mesh : client.peer;
    this.#position = options.position;
    this.#onChat = options.onChat;
    this.#onEvent = options.onEvent;
    // Both classes emit these signals with the peer id as detail.
    const events = this.net as unknown as EventTarget;
    const idOf = (e: Event) => (e as CustomEvent<number>).detail;
    events.addEventListener("peer_connected", (e) => {
      const p = this.#peer(idOf(e));
      p.connected = true;
      p.left = false;
      this.#note(`peer ${idOf(e)} connected`);
    });
    events.addEventListener("peer_disconnected", (e) => {
      const p = this.#peer(idOf(e));
      p.connected = false;
      p.left = true;
      this.#disconnected.push(idOf(e));
      this.#note(`peer ${idOf(e)} disconnected`);
    });
    // Godot 3's name, then Godot 4's.
    for (const type of ["connection_succeeded", "connected_to_server"]) {
      events.addEventListener(type, () => this.#note("connected to the host"));
    }
    events.addEventListener("server_disconnected", () => this.#note("the host (peer 1) left"));
    client.addEventListener("signaling_error", (e) => this.#note(`signaling: ${e.detail.message}`));
    client.addEventListener("lobby_sealed", () => this.#note("the host sealed the lobby"));
    client.addEventListener("disconnected", (e) => {
      this.#note(`signaling closed: ${e.detail.code} ${e.detail.reason}`.trim());
    });
    const dotRate = Math.max(1, options.dotRate ?? 20);
    this.#timers.push(setInterval(() => this.#sendDot(), 1000 / dotRate));
    this.#timers.push(setInterval(() => this.#ping(), options.pingIntervalMs ?? 500));
    this.#reading = this.#read();
    this.#note(
      `joined lobby ${client.lobby} as peer ${client.id} (${this.#protocol()}, ${this.#role()})`,
    );
  }

  /**
   * Joins a lobby (`""` creates one) and starts the session.
   *
   * @example
   * ```ts
   * import { MeshSession } from "./session.ts";
   * import { serveSignalingDeno } from "../signaling/server_deno.ts";
   * import { createPeerConnection } from "../adapters/node_datachannel.ts";
   * const server = await serveSignalingDeno({ port: 0 });
   * const host = await MeshSession.join(server.url, "", { createPeerConnection });
   * console.log(host.snapshot().lobby.length); // 16
   * await host.close();
   * await server.shutdown();
   * ```
   */
  static async join(url: string, lobby = "", options: SessionOptions = {}): Promise<MeshSession> {
    const client = options.protocol === "godot4"
      ? await joinLobbyGodot4(url, lobby, options)
      : await joinLobby(url, lobby, options);
    return new MeshSession(client, options);
  }

  /** Sets our dot (used when no `position` option is given). */
  moveDot(x: number, y: number): void {
    this.#dot = { x: clamp01(x), y: clamp01(y) };
  }

  /**
   * Sends a chat line on the reliable channel to every connected peer, or only to peer `to`.
   * Returns how many peers it was sent to.
   */
  say(text: string, to?: number): number {
    const trimmed = text.trim();
    if (trimmed === "") return 0;
    const line = { from: this.client.id, text: trimmed, at: Date.now() };
    this.#addChat(line);
    const bytes = encodeWeb({ kind: "chat", text: trimmed });
    let n = 0;
    for (const id of to === undefined ? this.#connectedIds() : [to]) {
      if (this.#send(id, TransferMode.RELIABLE, bytes)) n++;
    }
    return n;
  }

  /** The session as JSON-ready data. */
  snapshot(): MeshSnapshot {
    const mesh = this.net;
    const stats = mesh.stats().peers;
    const peers = [...this.#peers.values()].sort((a, b) => a.id - b.id).map((p) => {
      const info = mesh.getPeer(p.id);
      return {
        id: p.id,
        connected: p.connected,
        left: p.left,
        connectionState: info ? info.connection.connectionState : "gone",
        channels: info
          ? info.channels.slice(0, 3).map((c) => c.readyState) as [string, string, string]
          : ["gone", "gone", "gone"] as [string, string, string],
        in: [...p.in] as [number, number, number],
        out: [...p.out] as [number, number, number],
        rtt: p.rtt,
        candidates: stats.get(p.id)?.candidatePair
          ? pairTypes(stats.get(p.id)?.candidatePair)
          : null,
        dot: p.dot ? { ...p.dot } : null,
      };
    });
    const reason = this.client.disconnectReason;
    return {
      id: this.client.id,
      lobby: this.client.lobby,
      protocol: this.#protocol(),
      role: this.#role(),
      signaling: reason
        ? `closed: ${reason.code} ${reason.reason}`.trim()
        : this.client.sealed
        ? "sealed"
        : "joined",
      status: mesh.getConnectionStatus(),
      peers,
      connected: this.#connectedIds(),
      disconnected: [...this.#disconnected],
      chat: [...this.#chat],
      log: [...this.#log],
      dot: { ...this.#currentDot() },
    };
  }

  /** Stops the timers and the reader, closes signaling and the mesh. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const t of this.#timers) clearInterval(t);
      this.#stopReading.abort();
      await this.client.close();
      await this.#reading;
      await this.net.whenClosed();
    })();
    return this.#closing;
  }

  #protocol(): Protocol {
    return this.client instanceof LobbyClient ? "godot3" : "godot4";
  }

  #role(): "mesh" | "server" | "client" {
    const net = this.net;
    if (!("isServerRelaySupported" in net) || !net.isServerRelaySupported()) return "mesh";
    return net.isServer() ? "server" : "client";
  }

  #peer(id: number): PeerRecord {
    let p = this.#peers.get(id);
    if (!p) {
      p = {
        id,
        connected: false,
        left: false,
        in: [0, 0, 0],
        out: [0, 0, 0],
        rtt: null,
        dot: null,
      };
      this.#peers.set(id, p);
    }
    return p;
  }

  #connectedIds(): number[] {
    return [...this.#peers.values()].filter((p) => p.connected).map((p) => p.id).sort((a, b) =>
      a - b
    );
  }

  #note(text: string): void {
    const stamp = new Date().toISOString().slice(11, 23);
    const line = `${stamp} ${text}`;
    this.#log.push(line);
    if (this.#log.length > KEEP_LOG) this.#log.shift();
    this.#onEvent?.(line);
  }

  #addChat(line: ChatLine): void {
    this.#chat.push(line);
    if (this.#chat.length > KEEP_CHAT) this.#chat.shift();
    this.#onChat?.(line);
  }

  #send(id: number, mode: TransferMode, bytes: Uint8Array): boolean {
    const mesh = this.net;
    mesh.targetPeer = id;
    mesh.transferMode = mode;
    const ok = mesh.putPacket(bytes) === 0;
    if (ok) this.#peer(id).out[mode]++;
    return ok;
  }

  #currentDot(): { x: number; y: number } {
    if (this.#position) {
      const p = this.#position(performance.now());
      this.#dot = { x: clamp01(p.x), y: clamp01(p.y) };
    }
    return this.#dot;
  }

  #sendDot(): void {
    const ids = this.#connectedIds();
    if (ids.length === 0) return;
    const bytes = encodeWeb({ kind: "dot", ...this.#currentDot() });
    for (const id of ids) this.#send(id, TransferMode.UNRELIABLE, bytes);
  }

  #ping(): void {
    const bytes = encodeWeb({ kind: "ping", time: performance.now() });
    for (const id of this.#connectedIds()) this.#send(id, TransferMode.UNRELIABLE_ORDERED, bytes);
  }

  async #read(): Promise<void> {
    for await (const packet of this.net.packets(this.#stopReading.signal)) {
      const p = this.#peer(packet.peerId);
      // Godot 3 packets carry their transfer mode as `channel`; Godot 4 packets as `mode`.
      const mode: TransferMode = "mode" in packet ? packet.mode : packet.channel;
      p.in[mode]++;
      const msg: WebPacket | undefined = decodeWeb(packet.data);
      if (!msg) continue;
      switch (msg.kind) {
        case "chat":
          this.#addChat({ from: packet.peerId, text: msg.text, at: Date.now() });
          break;
        case "dot":
          p.dot = { x: msg.x, y: msg.y };
          break;
        case "ping":
          this.#send(packet.peerId, mode, encodeWeb({ kind: "pong", time: msg.time }));
          break;
        case "pong": {
          const rtt = performance.now() - msg.time;
          if (rtt >= 0 && rtt < 60000) p.rtt = Math.round(rtt * 10) / 10;
          break;
        }
      }
    }
  }
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

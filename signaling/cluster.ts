/**
 * Several signaling server instances sharing lobbies: an adapter UNDER the lobby rules, which stay
 * the pure reducer of `lobby.ts`, untouched.
 *
 * Theory of operation. A lobby lives in the reducer of the instance where its host created it (its
 * *owner*), exactly as on a single server; the host is always a local socket of its owner. A
 * {@link Broker} (Redis in production, `broker_redis.ts`; {@link MemoryHub} in one process) holds
 * the directory `lobby name -> owner`, each instance's heartbeat, and carries messages between
 * instances. When a socket's first frame joins a lobby owned by another instance, its instance
 * becomes a pipe: the socket is handed to the owner (`open`, then every frame as it came), and the
 * owner's reducer sees it as one more connection whose `send`/`close` travel back (`send`,
 * `close`). So every rule (ids unique in a lobby, lobby full, sealed, relays, rate limits, hostile
 * frames) is decided by one reducer, the owner's; Redis only names and carries.
 *
 * - Lobby names: a new lobby's name is claimed in the broker first (set-if-absent), so names are
 *   unique across instances. Each instance holds its lobbies' keys again every 10 heartbeats (they
 *   live 30), and at once when Redis is back after an outage (a restarted Redis has lost every
 *   key), so the directory is whole again within a heartbeat. A stale key is harmless: lookups
 *   check the owner's heartbeat, and the owner's rules answer for a lobby that is gone.
 * - Death (SIGKILL): an instance whose heartbeat key expired (`heartbeatMs` * 3) is dead. The
 *   owners drop its handed-over sockets as closed (their lobbies send `D:`/PEER_DISCONNECT; never a
 *   host's leaving: a host is always local to its lobby's owner); the instances that piped sockets
 *   to it close them with 4000 "Room host has disconnected" (its lobbies' hosts died with it),
 *   as Godot's server does when a host leaves. Nothing else is touched.
 * - Broker away (Redis down or restarting): joins that need it (creating a lobby, joining one not
 *   held here) are refused with 4000 {@link STORE_UNAVAILABLE}; nobody is declared dead while it is
 *   away nor until a grace period after it is back (every instance must heartbeat again first).
 *   Frames between instances published while it is away are lost (pub/sub has no backlog).
 *
 * @module
 */
import { decodeClient, detectProtocol } from "./codec.ts";
import { CLOSE_GOING_AWAY, CLOSE_PROTOCOL_ERROR, Reasons } from "./protocol.ts";
import type { LogLevel, SignalingConnection, SignalingServer, SignalingSocket } from "./server.ts";
import { randomLobbyName } from "./lobby.ts";

/** Close reason of a join refused because the shared store (Redis) cannot be reached. */
export const STORE_UNAVAILABLE = "Signaling store unavailable, try again";

/** Close reason of our sockets in other instances' lobbies after this instance stalled. */
export const LOST_CLUSTER = "Signaling server lost its cluster, join again";

/** What instances tell each other. `from` is the sending instance, `key` the piping instance's. */
export type ClusterMessage =
  /** A socket of `from` joins a lobby of the receiver: make it a connection of the reducer. */
  | { readonly t: "open"; readonly from: string; readonly key: number }
  /**
   * A frame of that socket (`text` undefined: a binary frame), `at` when it arrived there
   * (`Date.now()`): the owner's rate limit counts from that time, not from a burst of backlog.
   */
  | {
    readonly t: "frame";
    readonly from: string;
    readonly key: number;
    readonly text?: string;
    readonly at?: number;
  }
  /** That socket closed. */
  | { readonly t: "closed"; readonly from: string; readonly key: number }
  /** Owner to pipe: send this text on socket `key`. */
  | { readonly t: "send"; readonly key: number; readonly text: string }
  /** Owner to pipe: close socket `key`. */
  | { readonly t: "close"; readonly key: number; readonly code: number; readonly reason: string };

/** Where lobbies are named and instances meet: Redis, or {@link MemoryHub} in one process. */
export interface Broker {
  /** This instance's name (unique among live instances). */
  readonly instance: string;
  /** Whether the broker can be reached now. */
  readonly available: boolean;
  /** Starts delivering this instance's messages; `status` hears of the broker going and coming. */
  start(deliver: (message: ClusterMessage) => void, status: (up: boolean) => void): Promise<void>;
  /** Sends a message to an instance, in order after the earlier ones; lost if unavailable. */
  publish(to: string, message: ClusterMessage): void;
  /** Claims a new lobby name for this instance, for `ttlMs`; false if some instance holds it. */
  claimLobby(name: string, ttlMs: number): Promise<boolean>;
  /** Holds this instance's lobbies for `ttlMs` more (re-claims them after a Redis restart). */
  holdLobbies(names: readonly string[], ttlMs: number): Promise<void>;
  /** The live instance owning a lobby, or undefined. */
  lobbyOwner(name: string): Promise<string | undefined>;
  /**
   * Says this instance is alive for `ttlMs`. Resolves with whether its heartbeat was still alive
   * before (false: it had expired, or this is the first).
   */
  heartbeat(ttlMs: number): Promise<boolean>;
  /** Which of these instances are alive (same order). */
  alive(instances: readonly string[]): Promise<boolean[]>;
  /** Leaves (removes this instance's heartbeat) and disconnects. */
  close(): Promise<void>;
}

/** Options of {@link Cluster}. */
export interface ClusterOptions {
  /** Heartbeat period, ms; an instance silent for 3 periods is dead. Default 1000. */
  heartbeatMs?: number;
  /** Receives the cluster's log lines. */
  log?: (message: string, level: LogLevel) => void;
  /** Replaces randomness (tests). */
  randomLobbyName?: () => string;
}

/** A socket piped to the lobby's owner. */
interface Pipe {
  readonly socket: SignalingSocket;
  readonly owner: string;
}

/** Lobby keys are held again every this many heartbeats (and live 3 times as long). */
const LOBBY_HOLD_EVERY = 10;

const randomName = () => crypto.randomUUID().slice(0, 8);

/**
 * One instance's side of the cluster: wraps a {@link SignalingServer}; the transports call
 * {@link Cluster.open} instead of the server's `open`. Make the server with
 * `randomLobbyName: cluster.lobbyName` so that new lobbies take claimed names.
 */
export class Cluster {
  readonly #broker: Broker;
  #server: SignalingServer | undefined;
  readonly #log: (message: string, level: LogLevel) => void;
  readonly #heartbeatMs: number;
  readonly #lobbyTtlMs: number;
  readonly #randomLobbyName: () => string;
  /** Sockets of other instances in our reducer, by `instance/key`. */
  readonly #remotes = new Map<string, { readonly from: string; conn: SignalingConnection }>();
  /** Our sockets piped to other instances, by our key. */
  readonly #pipes = new Map<number, Pipe>();
  #nextKey = 1;
  #claimed: string | undefined;
  #handingOver = false;
  #beats = 0;
  #reclaim = false;
  #handedOver = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** No death is declared before this time (ms, performance.now): start, and back from an outage. */
  #judgeAfter = 0;
  #beating = false;
  #stopped = false;

  /** A cluster over `broker`; call {@link attach} with the server, then {@link start}. */
  constructor(broker: Broker, options: ClusterOptions = {}) {
    this.#broker = broker;
    this.#log = options.log ?? (() => {});
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#lobbyTtlMs = this.#heartbeatMs * LOBBY_HOLD_EVERY * 3;
    this.#randomLobbyName = options.randomLobbyName ?? randomLobbyName;
  }

  /** This instance's name in the broker. */
  get instance(): string {
    return this.#broker.instance;
  }

  /** Whether the broker is reachable (for `/healthz`). */
  get available(): boolean {
    return this.#broker.available;
  }

  /**
   * True while a socket handed to another instance is being forgotten by our rules (its `Closed`
   * step is no client closing: metrics skip it).
   */
  get handingOver(): boolean {
    return this.#handingOver;
  }

  /** Sockets handed to other instances so far. */
  get handedOver(): number {
    return this.#handedOver;
  }

  /** Sockets piped to other instances now. */
  get piped(): number {
    return this.#pipes.size;
  }

  /**
   * The `randomLobbyName` to give the server: the name claimed in the broker while a creation is
   * under way (the only time the reducer asks for one).
   */
  readonly lobbyName = (): string => this.#claimed ?? this.#randomLobbyName();

  /** Wires the server this cluster routes for. */
  attach(server: SignalingServer): void {
    this.#server = server;
  }

  /** Connects to the broker and starts the heartbeat. */
  async start(): Promise<void> {
    await this.#broker.start((m) => this.#deliver(m), (up) => this.#status(up));
    this.#judgeAfter = performance.now() + this.#heartbeatMs * 4;
    await this.#beat();
    this.#timer = setInterval(() => void this.#beat(), this.#heartbeatMs);
    (this.#timer as unknown as { unref?: () => void }).unref?.();
  }

  /** Stops: piped sockets get 1001, the heartbeat stops, the broker is left. */
  async shutdown(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const [key, pipe] of this.#pipes) {
      this.#broker.publish(pipe.owner, { t: "closed", from: this.instance, key });
      pipe.socket.close(CLOSE_GOING_AWAY, Reasons.SERVER_SHUTDOWN);
    }
    this.#pipes.clear();
    await this.#broker.close();
  }

  /** Registers a newly opened socket (what `SignalingServer.open` is without a cluster). */
  open(socket: SignalingSocket): SignalingConnection {
    const server = this.#server!;
    let local: SignalingConnection | undefined = server.open(socket);
    let first = true;
    let waiting: (string | Uint8Array | ArrayBuffer)[] | undefined;
    let pipeKey = 0;
    let gone = false;
    const route = async (text: string, lobby: string) => {
      const refuse = () => {
        local?.closed();
        local = undefined;
        socket.close(CLOSE_PROTOCOL_ERROR, STORE_UNAVAILABLE);
        gone = true;
      };
      const held = server.state.lobbies.has(lobby);
      if (!this.#broker.available && !held) return refuse();
      try {
        if (lobby === "") {
          const name = this.#randomLobbyName();
          if (!(await this.#broker.claimLobby(name, this.#lobbyTtlMs))) return refuse();
          if (gone) return;
          this.#claimed = name;
          try {
            local!.message(text);
          } finally {
            this.#claimed = undefined;
          }
          return;
        }
        const owner = held ? undefined : await this.#broker.lobbyOwner(lobby);
        if (gone) return;
        if (owner === undefined || owner === this.instance) return local!.message(text);
        // Hand the socket to the lobby's owner: our reducer forgets it (it never joined here).
        this.#handingOver = true;
        try {
          local!.closed();
        } finally {
          this.#handingOver = false;
        }
        local = undefined;
        this.#handedOver++;
        pipeKey = this.#nextKey++;
        this.#pipes.set(pipeKey, { socket, owner });
        this.#broker.publish(owner, { t: "open", from: this.instance, key: pipeKey });
        this.#broker.publish(owner, {
          t: "frame",
          from: this.instance,
          key: pipeKey,
          text,
          at: Date.now(),
        });
      } catch (error) {
        this.#log(`join routing failed: ${error}`, "warn");
        if (!gone) refuse();
      }
    };
    const forward = (data: string | Uint8Array | ArrayBuffer) => {
      const pipe = this.#pipes.get(pipeKey);
      if (!pipe) return;
      this.#broker.publish(pipe.owner, {
        t: "frame",
        from: this.instance,
        key: pipeKey,
        at: Date.now(),
        ...(typeof data === "string" ? { text: data } : {}),
      });
    };
    return {
      message: (data) => {
        if (gone) return;
        if (waiting) return void waiting.push(data);
        if (pipeKey !== 0) return forward(data);
        const lobby = first && typeof data === "string" ? joinTarget(data) : undefined;
        first = false;
        if (lobby === undefined) return local?.message(data);
        waiting = [];
        void route(data as string, lobby).then(() => {
          const later = waiting ?? [];
          waiting = undefined;
          for (const d of later) {
            if (gone) break;
            if (pipeKey !== 0) forward(d);
            else local?.message(d);
          }
        });
      },
      closed: () => {
        if (gone) return;
        gone = true;
        local?.closed();
        const pipe = this.#pipes.get(pipeKey);
        if (!pipe) return;
        this.#pipes.delete(pipeKey);
        this.#broker.publish(pipe.owner, { t: "closed", from: this.instance, key: pipeKey });
      },
    };
  }

  #deliver(m: ClusterMessage): void {
    switch (m.t) {
      case "open": {
        const id = `${m.from}/${m.key}`;
        if (this.#remotes.has(id) || !this.#server) return;
        const broker = this.#broker;
        const from = m.from;
        const key = m.key;
        const conn = this.#server.open({
          send: (text) => broker.publish(from, { t: "send", key, text }),
          close: (code, reason) => {
            this.#remotes.delete(id);
            broker.publish(from, { t: "close", key, code, reason });
          },
        });
        this.#remotes.set(id, { from, conn });
        return;
      }
      case "frame": {
        const remote = this.#remotes.get(`${m.from}/${m.key}`);
        // Clocks of two machines differ: an age below 0 or above 10 s is not believed.
        const age = m.at === undefined ? 0 : Math.min(10_000, Math.max(0, Date.now() - m.at));
        remote?.conn.message(m.text ?? new Uint8Array(0), age);
        return;
      }
      case "closed": {
        const id = `${m.from}/${m.key}`;
        const remote = this.#remotes.get(id);
        this.#remotes.delete(id);
        remote?.conn.closed();
        return;
      }
      case "send":
        this.#pipes.get(m.key)?.socket.send(m.text);
        return;
      case "close": {
        const pipe = this.#pipes.get(m.key);
        this.#pipes.delete(m.key);
        pipe?.socket.close(m.code, m.reason);
        return;
      }
    }
  }

  #status(up: boolean): void {
    if (up) {
      this.#judgeAfter = performance.now() + this.#heartbeatMs * 4;
      this.#log(`redis reachable again: instance ${this.instance} re-registering`, "warn");
      this.#reclaim = true;
      void this.#beat();
    } else {
      this.#log(`redis unreachable: refusing joins that need it until it is back`, "error");
    }
  }

  async #beat(): Promise<void> {
    if (this.#beating || this.#stopped || !this.#server) return;
    this.#beating = true;
    try {
      if (!this.#broker.available) return;
      const wasAlive = await this.#broker.heartbeat(this.#heartbeatMs * 3);
      // Lobby keys live 30 heartbeats and are held again every 10 (at once after an outage: a
      // restarted Redis has lost them). A stale key is harmless: lookups check the owner's
      // heartbeat, and the owner's rules answer for a lobby that is gone.
      if (this.#beats++ % LOBBY_HOLD_EVERY === 0 || this.#reclaim) {
        this.#reclaim = false;
        const lobbies = [...this.#server.state.lobbies.keys()];
        await this.#broker.holdLobbies(lobbies, this.#lobbyTtlMs);
      }
      if (performance.now() < this.#judgeAfter) return;
      if (!wasAlive) this.#buriedAlive();
      const others = new Set<string>();
      for (const r of this.#remotes.values()) others.add(r.from);
      for (const p of this.#pipes.values()) others.add(p.owner);
      if (others.size === 0) return;
      const names = [...others];
      const alive = await this.#broker.alive(names);
      if (!this.#broker.available || performance.now() < this.#judgeAfter) return;
      names.forEach((name, i) => {
        if (!alive[i]) this.#buryInstance(name);
      });
    } catch (error) {
      this.#log(`heartbeat failed: ${error}`, "warn");
    } finally {
      this.#beating = false;
    }
  }

  /**
   * Our own heartbeat had expired (this process stalled longer than the TTL): the others have
   * judged us dead and dropped our sockets from their lobbies, and closed theirs in ours. Do the
   * same here so that nobody is left half in a lobby: drop their sockets from our lobbies, close
   * ours that were piped to them, and tell them (in case some had not judged us yet).
   */
  #buriedAlive(): void {
    let left = 0;
    for (const [id, remote] of [...this.#remotes]) {
      this.#remotes.delete(id);
      remote.conn.closed();
      const key = Number(id.slice(id.lastIndexOf("/") + 1));
      this.#broker.publish(remote.from, {
        t: "close",
        key,
        code: CLOSE_GOING_AWAY,
        reason: LOST_CLUSTER,
      });
      left++;
    }
    let closed = 0;
    for (const [key, pipe] of [...this.#pipes]) {
      this.#pipes.delete(key);
      this.#broker.publish(pipe.owner, { t: "closed", from: this.instance, key });
      pipe.socket.close(CLOSE_GOING_AWAY, LOST_CLUSTER);
      closed++;
    }
    this.#log(
      `instance ${this.instance} missed its heartbeats (stalled past the TTL): the others have ` +
        `dropped it; ${left} member(s) of other instances left our lobbies, ${closed} socket(s) ` +
        `of ours in their lobbies closed`,
      "error",
    );
  }

  /** An instance died: its sockets leave our lobbies; ours piped to it lose their lobby's host. */
  #buryInstance(name: string): void {
    let left = 0;
    for (const [id, remote] of [...this.#remotes]) {
      if (remote.from !== name) continue;
      this.#remotes.delete(id);
      remote.conn.closed();
      left++;
    }
    let closed = 0;
    for (const [key, pipe] of [...this.#pipes]) {
      if (pipe.owner !== name) continue;
      this.#pipes.delete(key);
      pipe.socket.close(CLOSE_PROTOCOL_ERROR, Reasons.HOST_DISCONNECTED);
      closed++;
    }
    this.#log(
      `instance ${name} is gone (heartbeat expired): ${left} of its member(s) left our lobbies, ` +
        `${closed} socket(s) of ours in its lobbies closed`,
      "warn",
    );
  }
}

/**
 * The lobby a first frame asks to join (`""`: create one), or undefined if it is no join (the
 * reducer then refuses it as usual). Either protocol (Godot 3's `J: `, Godot 4's JOIN).
 */
export function joinTarget(text: string): string | undefined {
  const parsed = decodeClient(detectProtocol(text), text);
  return parsed.ok && parsed.value.type === "join" ? parsed.value.lobby : undefined;
}

/**
 * A broker inside one process: several instances (servers) of one process share lobbies through
 * it. For tests and for embedding; no dependency. {@link MemoryHub.kill} makes an instance vanish
 * as a SIGKILL would (no more heartbeats, its messages are dropped).
 *
 * @example
 * ```ts
 * import { MemoryHub } from "./cluster.ts";
 * const hub = new MemoryHub();
 * const a = hub.broker("a");
 * console.log(a.instance, await a.claimLobby("L", 1000), await hub.broker("b").claimLobby("L", 1000)); // a true false
 * ```
 */
export class MemoryHub {
  readonly #inboxes = new Map<string, (m: ClusterMessage) => void>();
  readonly #lobbies = new Map<string, { owner: string; until: number }>();
  readonly #beats = new Map<string, number>();
  readonly #dead = new Set<string>();

  /** The broker of a new instance (name default: random). */
  broker(instance: string = randomName()): Broker {
    // deno-lint-ignore no-this-alias
    const hub = this;
    const live = (name: string) => !hub.#dead.has(name) && (hub.#beats.get(name) ?? 0) > Date.now();
    return {
      instance,
      get available() {
        return !hub.#dead.has(instance);
      },
      start(deliver) {
        hub.#inboxes.set(instance, deliver);
        return Promise.resolve();
      },
      publish(to, message) {
        if (hub.#dead.has(instance)) return;
        const inbox = hub.#inboxes.get(to);
        // Asynchronous, in order, like a pub/sub hop.
        if (inbox) queueMicrotask(() => hub.#dead.has(to) || inbox(message));
      },
      claimLobby(name, ttlMs) {
        const held = hub.#lobbies.get(name);
        if (held && held.until > Date.now()) return Promise.resolve(false);
        hub.#lobbies.set(name, { owner: instance, until: Date.now() + ttlMs });
        return Promise.resolve(true);
      },
      holdLobbies(names, ttlMs) {
        if (hub.#dead.has(instance)) return Promise.resolve();
        for (const name of names) {
          hub.#lobbies.set(name, { owner: instance, until: Date.now() + ttlMs });
        }
        return Promise.resolve();
      },
      lobbyOwner(name) {
        const held = hub.#lobbies.get(name);
        return Promise.resolve(
          held && held.until > Date.now() && live(held.owner) ? held.owner : undefined,
        );
      },
      heartbeat(ttlMs) {
        if (hub.#dead.has(instance)) return Promise.resolve(false);
        const was = live(instance);
        hub.#beats.set(instance, Date.now() + ttlMs);
        return Promise.resolve(was);
      },
      alive(instances) {
        return Promise.resolve(instances.map(live));
      },
      close() {
        hub.#beats.delete(instance);
        hub.#inboxes.delete(instance);
        return Promise.resolve();
      },
    };
  }

  /** Lets an instance's heartbeat expire now, as a process stalled past the TTL would. */
  expire(instance: string): void {
    this.#beats.delete(instance);
  }

  /** Makes an instance vanish at once, as a SIGKILL would. */
  kill(instance: string): void {
    this.#dead.add(instance);
    this.#beats.delete(instance);
  }
}

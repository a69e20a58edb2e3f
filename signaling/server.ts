/**
 * The transport-agnostic signaling server: feeds socket events to the pure lobby reducer
 * (`lobby.ts`) and carries out its effects. `server_deno.ts` and `server_node.ts` plug a real
 * WebSocket server into it.
 *
 * @module
 */
import {
  defaultEnv,
  emptyServer,
  type MemberIds,
  nextDeadline,
  reduceServer,
  relay,
  type Relayed,
  type ServerEffect,
  type ServerEnv,
  type ServerEvent,
  type ServerLimits,
  type ServerState,
  type ServerStep,
} from "./lobby.ts";
import type { Broker } from "./cluster.ts";
import type { IceServer } from "../adapters/loopback.ts";

/** How much a server event matters: see {@link SignalingServerOptions.log}. */
export type LogLevel = "error" | "warn" | "info";

/** The two things the server does to a socket. */
export interface SignalingSocket {
  /** Sends a text frame. Must not throw (drop the frame if the socket is closing). */
  send(text: string): void;
  /** Closes the socket with a code and reason. Must not throw. */
  close(code: number, reason: string): void;
}

/** What a transport reports about one socket. */
export interface SignalingConnection {
  /**
   * A frame arrived: a string for text frames, bytes for binary ones. `ageMs`: how long ago it
   * arrived, when it was handed on (a frame piped from another instance: the rate limit and the
   * latency count from its arrival there). Default 0.
   */
  message(data: string | Uint8Array | ArrayBuffer, ageMs?: number): void;
  /** The socket closed (for whatever reason). Safe to call more than once. */
  closed(): void;
}

/** Options of {@link SignalingServer} and of the Deno and Node servers. */
export interface SignalingServerOptions {
  /** Limits; unspecified ones take {@link DEFAULT_LIMITS}. */
  limits?: Partial<ServerLimits>;
  /**
   * Receives one line per notable server event, with its level: `info` for the lobby's life (a
   * lobby created, a peer joined, a lobby sealed or closed), `warn` for a connection closed for
   * breaking a rule or a limit, `error` for an internal error (a bug; the event was dropped).
   */
  log?: (message: string, level: LogLevel) => void;
  /** Replaces randomness (tests): where member ids come from. */
  memberIds?: MemberIds;
  /** Replaces randomness (tests). */
  randomLobbyName?: () => string;
  /** Clock in ms (tests). Default `performance.now`. */
  now?: () => number;
  /** Called after every step of the rules, effects carried out (metrics). Default: none. */
  observe?: (step: ObservedStep) => void;
}

/** One step of the rules, as {@link SignalingServerOptions.observe} sees it. */
export interface ObservedStep {
  /** The event. */
  readonly event: ServerEvent;
  /** The state before it. */
  readonly before: ServerState;
  /** The state after it. */
  readonly after: ServerState;
  /** Its effects (already carried out). */
  readonly effects: readonly ServerEffect[];
  /** Time from the event's arrival to its effects carried out, seconds. */
  readonly seconds: number;
}

/** Options of the WebSocket servers (`serveSignalingDeno`, `serveSignalingNode`). */
export interface ServeOptions extends SignalingServerOptions {
  /** Interface to bind. Default `"127.0.0.1"` (loopback only). */
  hostname?: string;
  /** Port; `0` picks a free one. Default 9080 (the Godot demo's). */
  port?: number;
  /**
   * `redis://HOST:PORT`: lobbies are shared with every instance using the same Redis (see
   * `cluster.ts`); joins that need Redis are refused while it is unreachable. Default: none (one
   * instance, in memory, no dependency loaded).
   */
  redis?: string;
  /** Shares lobbies through this broker instead (`MemoryHub` in one process; tests). */
  broker?: Broker;
  /** Heartbeat period of the instances sharing lobbies, ms. Default 1000. */
  heartbeatMs?: number;
  /** Serves Prometheus metrics at `GET /metrics` (loads `prom-client`). Default false. */
  metrics?: boolean;
  /**
   * Hands clients their ICE servers at `GET /ice-servers` (JSON `{ "iceServers": [...] }`), for
   * example time-limited TURN credentials from `restIceServers`. Default: none (404).
   */
  iceServers?: () => Promise<IceServer[]> | IceServer[];
  /**
   * A client that sends nothing, not even a pong to the server's pings, for this long is dropped
   * as if its socket had closed (`D:`/PEER_DISCONNECT to its lobby, the lobby closed if it was the
   * host): a client whose network vanished leaves no ghost. Default
   * {@link DEFAULT_IDLE_TIMEOUT_MS}; `0` turns it off. Both servers (one timer for all sockets,
   * `_sockets.ts`) check every fifth of it, ping a socket quiet for three fifths, and drop one
   * quiet for five (its last frame between four and five fifths ago), so within it.
   */
  idleTimeoutMs?: number;
}

/** Default {@link ServeOptions.idleTimeoutMs}: a silent client is gone within 8 s. */
export const DEFAULT_IDLE_TIMEOUT_MS = 8000;

/**
 * Validates {@link ServeOptions.idleTimeoutMs}: `undefined` gives the default; else an integer,
 * `0` (off) or at least 1000 ms. Throws a `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { idleTimeoutOf } from "./server.ts";
 * console.log(idleTimeoutOf({}), idleTimeoutOf({ idleTimeoutMs: 0 })); // 8000 0
 * ```
 */
export function idleTimeoutOf(options: ServeOptions): number {
  const value = options.idleTimeoutMs;
  if (value === undefined) return DEFAULT_IDLE_TIMEOUT_MS;
  if (typeof value !== "number" || !Number.isInteger(value) || (value !== 0 && value < 1000)) {
    throw new TypeError(
      `idleTimeoutMs must be 0 (off) or an integer of at least 1000 (ms), got ${String(value)}`,
    );
  }
  return value;
}

/** A running signaling server. */
export interface RunningSignalingServer {
  /** `ws://host:port` to give clients. */
  readonly url: string;
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /**
   * `http://host:port/` when the server also serves a web page (`staticDir` of
   * `serveSignalingDeno`), else undefined.
   */
  readonly httpUrl?: string;
  /** The protocol driver (state, limits). */
  readonly server: SignalingServer;
  /** This instance's name among those sharing lobbies (`redis`/`broker`), else undefined. */
  readonly instance?: string;
  /** Closes every client with 1001 and stops listening. */
  shutdown(): Promise<void>;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
}

const encoder = new TextEncoder();

/** UTF-8 length of a string, without encoding it when the answer is clear anyway. */
function utf8Length(text: string, limit: number): number {
  if (text.length * 3 <= limit) return text.length; // surely within the limit
  if (text.length > limit) return text.length; // surely over it
  return encoder.encode(text).length;
}

/**
 * Runs the lobby reducer over real sockets. Call {@link SignalingServer.open} for every accepted
 * socket and report its frames and its closing on the returned handle.
 *
 * @example
 * ```ts
 * import { SignalingServer } from "./server.ts";
 * const server = new SignalingServer({ randomLobbyName: () => "L" });
 * const sent: string[] = [];
 * const conn = server.open({ send: (t) => sent.push(t), close: () => {} });
 * conn.message("J: \n");
 * console.log(sent); // [ "I: 1\n", "J: L\n" ]
 * server.shutdown();
 * ```
 */
export class SignalingServer {
  #state: ServerState = emptyServer;
  #env: ServerEnv;
  #sockets = new Map<number, SignalingSocket>();
  #nextKey = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt: number | undefined;
  #log: (message: string, level: LogLevel) => void;
  #now: () => number;
  #observe: ((step: ObservedStep) => void) | undefined;
  #stopped = false;

  /** Creates a server with the given limits. */
  constructor(options: SignalingServerOptions = {}) {
    const env = defaultEnv(options.limits);
    this.#env = {
      limits: env.limits,
      memberIds: options.memberIds ?? env.memberIds,
      randomLobbyName: options.randomLobbyName ?? env.randomLobbyName,
    };
    this.#log = options.log ?? (() => {});
    this.#now = options.now ?? (() => performance.now());
    this.#observe = options.observe;
  }

  /** The limits in force. */
  get limits(): ServerLimits {
    return this.#env.limits;
  }

  /** The reducer's current state (read-only view, for monitoring and tests). */
  get state(): ServerState {
    return this.#state;
  }

  /** Registers a newly opened socket. After {@link shutdown} it is closed at once with 1001. */
  open(socket: SignalingSocket): SignalingConnection {
    const key = this.#nextKey++;
    if (this.#stopped) {
      socket.close(1001, "Server shutting down");
      return { message() {}, closed() {} };
    }
    this.#sockets.set(key, socket);
    this.#dispatch({ type: "Opened", key, now: this.#now() });
    let done = false;
    return {
      message: (data, ageMs) => {
        // Frames still arriving after the rules closed this socket (a flood) are not worth a
        // reducer step each: the connection is gone from the state already.
        if (done || !this.#sockets.has(key)) return;
        const now = ageMs ? this.#now() - ageMs : this.#now();
        if (typeof data === "string") {
          const bytes = utf8Length(data, this.#env.limits.maxFrameBytes);
          if (this.#relay(key, data, bytes, now)) return;
          this.#dispatch({ type: "Text", key, text: data, bytes, now });
        } else {
          this.#dispatch({ type: "Binary", key, now });
        }
      },
      closed: () => {
        if (done) return;
        done = true;
        this.#sockets.delete(key);
        this.#dispatch({ type: "Closed", key, now: this.#now() });
      },
    };
  }

  /** Closes every socket with 1001 and stops the timer. Later sockets are refused. */
  shutdown(): void {
    if (this.#stopped) return;
    this.#dispatch({ type: "Shutdown", now: this.#now() });
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The rules' relay fast path (`relay`), taken when nothing observes the steps: the same rules
   * and the same result as {@link reduceServer}'s, without its event, step and effect objects (a
   * relayed frame is most of a server's events). False when the general rules must decide.
   */
  #relay(key: number, text: string, bytes: number, now: number): boolean {
    if (this.#observe !== undefined) return false;
    let r: Relayed | undefined;
    try {
      r = relay(this.#state, key, text, bytes, now, this.#env.limits);
    } catch {
      return false; // the general rules decide (and log a bug, if it is one)
    }
    if (r === undefined) return false;
    // A relay changes no deadline: the timer stays.
    this.#state = r.state;
    this.#sockets.get(r.key)?.send(r.text);
    return true;
  }

  #dispatch(event: ServerEvent): void {
    let step: ServerStep;
    const before = this.#state;
    try {
      step = reduceServer(before, event, this.#env);
    } catch (error) {
      // A bug in the rules must not take the server down; the event is dropped.
      this.#log(`internal error on ${event.type}: ${error}`, "error");
      return;
    }
    this.#state = step[0];
    const effects = step[1];
    for (let i = 0; i < effects.length; i++) this.#apply(effects[i]);
    // The next deadline is the front of the state's deadline queues: unchanged queues (a relay),
    // unchanged timer.
    const after = this.#state;
    if (
      event.type === "Tick" || after.waiting !== before.waiting || after.sealing !== before.sealing
    ) {
      this.#schedule();
    }
    if (this.#observe) {
      const seconds = "now" in event ? Math.max(0, this.#now() - event.now) / 1000 : 0;
      this.#observe({ event, before, after, effects, seconds });
    }
  }

  #apply(effect: ServerEffect): void {
    switch (effect.type) {
      case "Send":
        this.#sockets.get(effect.key)?.send(effect.text);
        break;
      case "Close": {
        const socket = this.#sockets.get(effect.key);
        this.#sockets.delete(effect.key);
        if (effect.code !== 1000 && effect.code !== 1001) {
          this.#log(`closing connection ${effect.key}: ${effect.code} ${effect.reason}`, "warn");
        }
        socket?.close(effect.code, effect.reason);
        break;
      }
      case "Log":
        this.#log(effect.message, "info");
        break;
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    const at = nextDeadline(this.#state, this.#env.limits);
    if (at === this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = undefined;
      this.#dispatch({ type: "Tick", now: Math.max(this.#now(), at) });
    }, Math.max(0, at - this.#now()));
  }
}

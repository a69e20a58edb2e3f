/**
 * The WebSockets a server holds (both servers accept them on `node:http`, `_http_node.ts`, with
 * the framing of `_websocket.ts`): each accepted one is wired to the rules
 * ({@link Frontend.open}), and keep-alive runs on ONE timer for all of them, counting in ticks (a
 * frame stamps its socket with the tick it came in; no clock read, no timer per socket).
 *
 * Every fifth of `idleTimeoutMs` is a tick. A socket quiet for three ticks is pinged: a busy one
 * proves itself with its frames, an idle one answers every third tick, so 10,000 idle sockets cost
 * about 2,100 pings a second at the default. A socket quiet for five ticks (its last frame between
 * four and five ticks ago: it had two ticks to answer a ping) is cut, so a silent client is gone
 * within `idleTimeoutMs`, and its close then removes it from its lobby (docs/liveness.md). With
 * `idleTimeoutMs` 0, every socket is pinged every 10 s (the Godot demo's keep-alive) and nobody is
 * cut.
 *
 * @module
 */
import type { SignalingConnection } from "./server.ts";
import type { Frontend } from "./_frontend.ts";
import type { ServerWebSocket, WebSocketHandlers } from "./_websocket.ts";

/** Hard cap of the transport: bigger messages are refused with 1009 before the rules see them. */
const TRANSPORT_MAX_PAYLOAD = 1024 * 1024;

/** Ping interval when `idleTimeoutMs` is off: the Godot demo's keep-alive (10 s). */
const PING_INTERVAL_MS = 10000;

/** Keep-alive ticks per `idleTimeoutMs`; a socket quiet for this many ticks is cut. */
const TICKS_PER_TIMEOUT = 5;

/** A socket quiet for this many ticks is pinged. */
const PING_AFTER_TICKS = 3;

/** One open socket, its connection to the rules, and the keep-alive tick of its last frame. */
interface Tracked {
  ws: ServerWebSocket | undefined;
  conn: SignalingConnection | undefined;
  seen: number;
}

/** The open WebSockets of one server, and their keep-alive. */
export class WebSocketHub {
  /** The largest message a socket takes (the rules' frame limit, at least the transport's cap). */
  readonly maxPayload: number;
  readonly #front: Frontend;
  readonly #sockets = new Set<Tracked>();
  readonly #timer: ReturnType<typeof setInterval>;
  /** Keep-alive ticks so far. */
  #tick = 0;

  constructor(front: Frontend, idleTimeoutMs: number) {
    this.#front = front;
    this.maxPayload = Math.max(TRANSPORT_MAX_PAYLOAD, front.server.limits.maxFrameBytes + 1);
    const tickMs = idleTimeoutMs > 0
      ? Math.floor(idleTimeoutMs / TICKS_PER_TIMEOUT)
      : PING_INTERVAL_MS;
    this.#timer = setInterval(() => {
      const tick = ++this.#tick;
      for (const s of this.#sockets) {
        const quiet = tick - s.seen;
        if (idleTimeoutMs > 0 && quiet >= TICKS_PER_TIMEOUT) s.ws?.terminate();
        else if (idleTimeoutMs === 0 || quiet >= PING_AFTER_TICKS) s.ws?.ping();
      }
    }, tickMs);
    // Never keep a process alive just for the keep-alive timer (Node); on Deno the listener does.
    (this.#timer as unknown as { unref?: () => void }).unref?.();
  }

  /** Open sockets. */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Accepts a socket: `open` completes the handshake with the handlers given (or refuses it and
   * returns undefined); the socket is then kept alive and joined to the rules.
   */
  accept(
    open: (handlers: WebSocketHandlers) => ServerWebSocket | undefined,
  ): ServerWebSocket | undefined {
    const tracked: Tracked = { ws: undefined, conn: undefined, seen: this.#tick };
    const ws = open({
      text: (text) => {
        tracked.seen = this.#tick;
        tracked.conn?.message(text);
      },
      binary: () => {
        tracked.seen = this.#tick;
        tracked.conn?.message(new Uint8Array(0));
      },
      alive: () => tracked.seen = this.#tick,
      closed: () => {
        this.#sockets.delete(tracked);
        tracked.conn?.closed();
      },
    });
    if (ws === undefined) return undefined;
    tracked.ws = ws;
    this.#sockets.add(tracked);
    tracked.conn = this.#front.open({
      send: (text) => ws.send(text),
      close: (code, reason) => ws.close(code, reason),
    });
    return ws;
  }

  /**
   * Stops keep-alive, waits (briefly) for the close handshakes the frontend's shutdown started,
   * then cuts what is left, so that no socket outlives the server.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const deadline = Date.now() + 2000;
    while (this.#sockets.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const s of this.#sockets) s.ws?.terminate();
  }
}

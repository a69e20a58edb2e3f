/**
 * The Deno server's transport: `Deno.listen` TCP with its own minimal HTTP/1.1, so that WebSocket
 * frames are parsed in place by this project's framing (`_websocket.ts`, shared with the Node
 * server) and keep-alive pings go out from the server's one timer (`_sockets.ts`). Deno's own
 * server `WebSocket` dispatches a `message` event per frame and re-arms an idle timer on every
 * frame it receives, and cannot send a ping of its own (BENCHMARKS.md "Signaling relay").
 *
 * Each connection reads with `conn.read` into one buffer of its own, reused for every read (a
 * frame is unmasked in place; only an incomplete frame's bytes are copied to be kept); writes go
 * out in order, those made while one is in flight joined into the next. The first request on a
 * connection decides it: an `Upgrade: websocket` request goes to `upgrade` (bytes that came right
 * behind it are its first frames); any other request is answered by `request` with
 * `Connection: close` (its body, if any, is not read), then the connection ends. A head that does
 * not parse gets 400, one over {@link MAX_HEAD_BYTES} 431, one not complete within
 * {@link HEAD_TIMEOUT_MS} a closed connection.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { FrameTransport, ServerWebSocket, UpgradeRequest } from "./_websocket.ts";

/** Bytes read at once; each connection holds one such buffer while it is open. */
const READ_BUFFER_BYTES = 4096;
/** The largest request head (request line and headers) taken. */
export const MAX_HEAD_BYTES = 16384;
/** Time for a connection to send its request head. */
export const HEAD_TIMEOUT_MS = 10000;
/** Time a connection that was answered and ended (half-closed) may take to close its side. */
const LINGER_MS = 2000;

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  204: "No Content",
  301: "Moved Permanently",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** What a listener does with its requests. */
export interface ConnHandlers {
  /**
   * An `Upgrade: websocket` request: answers it on `transport` (101, or 400 and `end()`) and
   * returns the accepted connection, or undefined.
   */
  upgrade(request: UpgradeRequest, transport: FrameTransport): ServerWebSocket | undefined;
  /** Any other request. */
  request(request: Request): Response | Promise<Response>;
}

/** A listening socket and its connections. */
export interface Listening {
  readonly addr: Deno.NetAddr;
  /** Resolves once {@link Listening.close} has closed the listener and every connection ended. */
  readonly finished: Promise<void>;
  /** Stops accepting, cuts every connection still open, and waits for them to end. */
  close(): Promise<void>;
}

/** A request head, parsed: the request line and the headers (names lower-cased, repeats joined). */
export interface RequestHead extends UpgradeRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses a request head (without its closing empty line), or undefined when it is malformed. */
export function parseHead(text: string): RequestHead | undefined {
  const lines = text.split("\r\n");
  const line = lines[0].split(" ");
  if (line.length !== 3 || !TOKEN.test(line[0]) || line[1] === "") return undefined;
  if (!/^HTTP\/1\.[01]$/.test(line[2])) return undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(":");
    const name = lines[i].slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) return undefined;
    const value = lines[i].slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { method: line[0], target: line[1], headers };
}

/** The bytes of a string of one byte per char. */
function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** A `Deno.Conn` as a {@link FrameTransport}: ordered writes, joined while one is in flight. */
class ConnTransport implements FrameTransport {
  readonly #conn: Deno.Conn;
  #queue: Uint8Array[] | undefined;
  #writing = false;
  #ending = false;
  #closed = false;
  /** The peer ended its side: once what is written has gone, the connection closes. */
  #peerEnded = false;
  #linger: ReturnType<typeof setTimeout> | undefined;
  #gone!: () => void;
  /** Resolves when the connection is closed. */
  readonly gone: Promise<void> = new Promise((r) => this.#gone = r);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  write(data: Uint8Array | string): void {
    if (this.#closed || this.#ending) return;
    const bytes = typeof data === "string" ? latin1(data) : data;
    if (this.#writing) (this.#queue ??= []).push(bytes);
    else this.#write(bytes);
  }

  /** Writes `bytes` (a promise callback, no async function: one write per relayed frame). */
  #write(bytes: Uint8Array): void {
    this.#writing = true;
    this.#conn.write(bytes).then((n) => {
      if (n < bytes.length) return this.#write(bytes.subarray(n));
      const queue = this.#queue;
      if (queue !== undefined) {
        this.#queue = undefined;
        return this.#write(queue.length === 1 ? queue[0] : Buffer.concat(queue));
      }
      this.#writing = false;
      if (this.#ending) this.#finish();
    }, () => this.destroy());
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (!this.#writing) this.#finish();
  }

  /**
   * Everything written has gone: half-close, and give the peer a while to close its side (none if
   * it did already).
   */
  #finish(): void {
    if (this.#closed) return;
    try {
      this.#conn.closeWrite();
    } catch {
      return this.destroy();
    }
    if (this.#peerEnded) this.destroy();
    else this.#linger = setTimeout(() => this.destroy(), LINGER_MS);
  }

  /** The peer ended its side (or the connection broke): ends ours once what is written has gone. */
  peerEnded(): void {
    this.#peerEnded = true;
    if (!this.#ending) this.end();
    else if (!this.#writing) this.destroy();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#queue = undefined;
    try {
      this.#conn.close();
    } catch {
      // closed
    }
    this.#gone();
  }
}

/** Listens on `hostname:port` (throws as `Deno.listen` does, e.g. when the port is taken). */
export function listenConns(
  options: { hostname: string; port: number },
  handlers: ConnHandlers,
): Listening {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const open = new Set<ConnTransport>();
  const ended = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const transport = new ConnTransport(conn);
        open.add(transport);
        const done = serveConn(conn, transport, handlers).finally(() => {
          open.delete(transport);
          ended.delete(done);
        });
        ended.add(done);
      }
    } catch {
      // the listener closed
    }
  })();
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => resolveFinished = r);
  let closing: Promise<void> | undefined;
  return {
    addr: listener.addr as Deno.NetAddr,
    finished,
    close: () =>
      closing ??= (async () => {
        try {
          listener.close();
        } catch {
          // closed
        }
        await accepting;
        for (const t of open) t.destroy();
        await Promise.all(ended);
        resolveFinished();
      })(),
  };
}

/** Reads one connection to its end: its request head, then its frames or its answer. */
async function serveConn(
  conn: Deno.Conn,
  transport: ConnTransport,
  handlers: ConnHandlers,
): Promise<void> {
  try {
    (conn as Deno.TcpConn).setNoDelay?.(true);
  } catch {
    // closed already
  }
  const buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  let head: Buffer | undefined;
  let ws: ServerWebSocket | undefined;
  /** Answered (or refused): what else comes is read and dropped until the peer closes. */
  let done = false;
  /** A plain request's answer being made. */
  let answering: Promise<void> | undefined;
  const timer = setTimeout(() => transport.destroy(), HEAD_TIMEOUT_MS);
  while (true) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      n = null;
    }
    if (n === null) break;
    if (ws !== undefined) {
      ws.receive(buf.subarray(0, n), true);
      continue;
    }
    if (done) continue;
    const bytes: Buffer = head === undefined
      ? buf.subarray(0, n)
      : Buffer.concat([head, buf.subarray(0, n)]);
    const end = bytes.indexOf("\r\n\r\n", Math.max(0, (head?.length ?? 0) - 3), "latin1");
    if (end < 0) {
      if (bytes.length > MAX_HEAD_BYTES) {
        done = true;
        clearTimeout(timer);
        transport.write(plainAnswer(431));
        transport.end();
      } else head = head === undefined ? Buffer.from(bytes) : bytes; // a copy: buf is reused
      continue;
    }
    head = undefined;
    done = true;
    clearTimeout(timer);
    const request = end <= MAX_HEAD_BYTES ? parseHead(bytes.toString("latin1", 0, end)) : undefined;
    if (request === undefined) {
      transport.write(plainAnswer(end > MAX_HEAD_BYTES ? 431 : 400));
      transport.end();
      continue;
    }
    if (request.headers.upgrade?.toLowerCase() === "websocket") {
      ws = handlers.upgrade(request, transport);
      // Frames right behind the request: copied, the read buffer is reused.
      if (ws !== undefined && end + 4 < bytes.length) {
        ws.receive(Buffer.from(bytes.subarray(end + 4)));
      }
      continue;
    }
    answering = answer(request, conn.localAddr as Deno.NetAddr, transport, handlers);
  }
  // The peer ended its side, or the connection was cut: an answer still on its way goes out first.
  clearTimeout(timer);
  if (answering !== undefined) await answering;
  transport.peerEnded();
  await transport.gone;
  ws?.ended();
}

/** A bodiless answer with `status`, closing the connection. */
function plainAnswer(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\nConnection: close\r\n` +
    "Content-Length: 0\r\n\r\n";
}

/** Answers a plain request with the handler's `Response`, then ends the connection. */
async function answer(
  head: RequestHead,
  local: Deno.NetAddr,
  transport: ConnTransport,
  handlers: ConnHandlers,
): Promise<void> {
  let request: Request;
  try {
    // origin-form (`/path`), or absolute-form (`http://host/path`) as a proxy would send it.
    const absolute = /^https?:\/\//i.test(head.target);
    if (!absolute && !head.target.startsWith("/")) throw new TypeError("bad request target");
    const host = head.headers.host || `${local.hostname}:${local.port}`;
    if (!/^[-0-9A-Za-z.:[\]]+$/.test(host)) throw new TypeError("bad host");
    const base = `http://${host}`;
    const url = absolute ? head.target : base + head.target;
    request = new Request(url, { method: head.method, headers: head.headers });
  } catch {
    transport.write(plainAnswer(400));
    transport.end();
    return;
  }
  let response: Response;
  let body: Uint8Array;
  try {
    response = await handlers.request(request);
    body = response.body === null ? new Uint8Array(0) : await response.bytes();
  } catch {
    response = new Response(null, { status: 500 });
    body = new Uint8Array(0);
  }
  let text = `HTTP/1.1 ${response.status} ${
    response.statusText || REASONS[response.status] || ""
  }\r\n`;
  for (const [name, value] of response.headers) {
    if (name !== "content-length" && name !== "connection" && name !== "transfer-encoding") {
      text += `${name}: ${value}\r\n`;
    }
  }
  // HEAD: the length of what GET would send (the handler's header, else its body's), no body.
  const isHead = head.method === "HEAD";
  const length = isHead
    ? response.headers.get("content-length") ?? String(body.length)
    : body.length;
  text += `content-length: ${length}\r\nconnection: close\r\n\r\n`;
  transport.write(Buffer.from(text, "utf8"));
  if (!isHead && body.length > 0) transport.write(body);
  transport.end();
}

/**
 * The server side of RFC 6455, transport-agnostic, written for the signaling server's hot path: a
 * frame is parsed and unmasked in place in the chunk it arrived in, and a text frame goes out as one
 * write. It is what `ws` did for the Node server, minus the stream machinery per frame (`ws` pipes
 * every chunk through a `Writable` receiver and every frame through cork, two writes and `writev`;
 * see BENCHMARKS.md "Signaling relay"). The bytes come and go through a {@link FrameTransport}: the
 * framing knows no socket; both servers give it a `node:net` socket (`_websocket_node.ts`).
 *
 * What it checks, as `ws` did: the handshake (`GET`, `Upgrade: websocket`, version 13, a
 * well-formed key; else 400), masked client frames, no reserved bits (no extension is ever
 * negotiated), known opcodes, control frames unfragmented and at most 125 bytes, continuation
 * frames only inside a fragmented message (all 1002), a message larger than `maxPayload` (1009),
 * text that is not UTF-8 (1007), close codes (1002); beyond `ws`, a message in more than 1,024
 * fragments (1008). A ping is answered with a pong; a close frame with a close frame, then the
 * connection ends. A requested subprotocol is accepted as `ws` does (the first one offered).
 *
 * @module
 */
import { Buffer, isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";

/**
 * Where a connection's bytes go. Its owner feeds the bytes that arrive to
 * {@link ServerWebSocket.receive} and reports the connection's end with
 * {@link ServerWebSocket.ended}.
 */
export interface FrameTransport {
  /** Writes bytes, or a string of one byte per char (`"latin1"`), in order. */
  write(data: Uint8Array | string, encoding?: "latin1"): unknown;
  /** Ends the connection once what was written has gone (a TCP half-close). */
  end(): void;
  /** Cuts the connection at once. */
  destroy(): void;
}

/** The parts of an upgrade request the handshake reads. */
export interface UpgradeRequest {
  readonly method?: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** What a connection reports. */
export interface WebSocketHandlers {
  /** A complete text message (valid UTF-8). */
  text(text: string): void;
  /** A complete binary message (its bytes are not kept). */
  binary(): void;
  /** A control frame arrived (a ping, a pong): the peer is alive (a message says so too). */
  alive(): void;
  /** The connection closed, for whatever reason; called once. */
  closed(): void;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** Fragments (non-empty) one message may arrive in; more closes the connection with 1008. */
const MAX_FRAGMENTS = 1024;
/** How long a close handshake may take before the connection is cut. */
const CLOSE_TIMEOUT_MS = 2000;
const EMPTY = Buffer.alloc(0);

const enum State {
  Open,
  Closing,
  Closed,
}

/** Whether `code` may appear in a close frame (RFC 6455 7.4; as `ws` checks it). */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999);
}

function header(request: UpgradeRequest, name: string): string {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value ?? "";
}

/**
 * A buffer for one frame (FIN set, unmasked, as a server sends it) of `opcode` with `length` bytes
 * of payload, its header written; the payload goes at `out.length - length`.
 */
function frameBuffer(opcode: number, length: number): Buffer {
  const size = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(size + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = length;
  else if (length < 65536) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(length, 6);
  }
  return out;
}

/** One frame of `opcode` with `payload`. */
function frame(opcode: number, payload: Uint8Array): Buffer {
  const out = frameBuffer(opcode, payload.length);
  out.set(payload, out.length - payload.length);
  return out;
}

/** The header of a text frame of `length` bytes, as a Latin-1 string (one char per byte). */
function textHeader(length: number): string {
  if (length < 126) return String.fromCharCode(0x81, length);
  if (length < 65536) return String.fromCharCode(0x81, 126, length >>> 8, length & 0xff);
  return String.fromCharCode(
    0x81,
    127,
    0,
    0,
    0,
    0,
    length >>> 24,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff,
  );
}

/** A text frame of `length` bytes of UTF-8, encoded into a buffer of its own. */
function textFrame(text: string, length: number): Buffer {
  const out = frameBuffer(0x1, length);
  out.write(text, out.length - length, "utf8");
  return out;
}

/** The answer to an upgrade request that is not a valid WebSocket handshake. */
export const BAD_REQUEST =
  "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/**
 * The `101 Switching Protocols` answer to an upgrade request, or undefined when it is not a valid
 * handshake (`GET`, `Upgrade: websocket`, version 13, a well-formed key): then the answer is
 * {@link BAD_REQUEST}. A requested subprotocol is accepted as `ws` does (the first one offered).
 */
export function handshake(request: UpgradeRequest): string | undefined {
  const key = header(request, "sec-websocket-key").trim();
  if (
    request.method !== "GET" || header(request, "upgrade").toLowerCase() !== "websocket" ||
    header(request, "sec-websocket-version").trim() !== "13" || !KEY.test(key)
  ) {
    return undefined;
  }
  const accept = createHash("sha1").update(key + GUID).digest("base64");
  const protocol = header(request, "sec-websocket-protocol").split(",")[0].trim();
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${accept}\r\n` +
    (protocol === "" ? "" : `Sec-WebSocket-Protocol: ${protocol}\r\n`) + "\r\n";
}

/** An accepted WebSocket (server side). */
export class ServerWebSocket {
  readonly #socket: FrameTransport;
  readonly #maxPayload: number;
  readonly #handlers: WebSocketHandlers;
  #state = State.Open;
  /**
   * The chunks of an incomplete frame, kept apart until `#needed` bytes are in: a frame trickling
   * in small chunks is joined once, not once per chunk.
   */
  #pending: Buffer[] | undefined;
  #pendingBytes = 0;
  #needed = 0;
  /** The fragments of a message in progress, and its opcode (0: none). */
  #fragments: Buffer[] = [];
  #fragmentOpcode = 0;
  #fragmentBytes = 0;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: FrameTransport, maxPayload: number, handlers: WebSocketHandlers) {
    this.#socket = socket;
    this.#maxPayload = maxPayload;
    this.#handlers = handlers;
  }

  /** Whether text can still be sent. */
  get open(): boolean {
    return this.#state === State.Open;
  }

  /** Sends a text frame (dropped unless open). */
  send(text: string): void {
    if (this.#state !== State.Open) return;
    const length = Buffer.byteLength(text);
    // All ASCII (signaling's SDP and candidates are): header and text go as one Latin-1 string,
    // which Node writes straight from the string, no buffer allocated per frame.
    if (length === text.length) this.#socket.write(textHeader(length) + text, "latin1");
    else this.#socket.write(textFrame(text, length));
  }

  /** Sends a ping (unless closing). */
  ping(): void {
    if (this.#state === State.Open) this.#socket.write(frame(0x9, EMPTY));
  }

  /** Starts the close handshake with `code` and `reason` (at most 123 bytes of UTF-8). */
  close(code: number, reason: string): void {
    if (this.#state !== State.Open) return;
    this.#sendClose(code, reason);
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), CLOSE_TIMEOUT_MS);
  }

  /** Cuts the connection at once. */
  terminate(): void {
    this.#socket.destroy();
  }

  #sendClose(code: number, reason: string): void {
    this.#state = State.Closing;
    const text = Buffer.from(reason, "utf8").subarray(0, 123);
    const payload = Buffer.allocUnsafe(2 + text.length);
    payload.writeUInt16BE(code, 0);
    payload.set(text, 2);
    this.#socket.write(frame(0x8, payload));
  }

  /** A protocol error: a close frame with `code`, and the connection ends. */
  #fail(code: number, reason: string): void {
    if (this.#state === State.Open) this.#sendClose(code, reason);
    this.#state = State.Closing;
    this.#pending = undefined;
    this.#socket.end();
    this.#closeTimer ??= setTimeout(() => this.#socket.destroy(), CLOSE_TIMEOUT_MS);
  }

  /** The connection ended (the transport's owner reports it; once is enough, more are ignored). */
  ended(): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closed;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#pending = undefined;
    this.#fragments = [];
    this.#handlers.closed();
  }

  /** Bytes from the connection (or the upgrade's head: pass a copy, they are unmasked in place). */
  receive(chunk: Buffer): void {
    let buf = chunk;
    if (this.#pending !== undefined) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < this.#needed) return;
      buf = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = undefined;
    }
    let at = 0;
    const end = buf.length;
    /** Bytes an incomplete frame at `at` needs before it can be read (0: its header, any more). */
    let needed = 0;
    while (this.#state !== State.Closed && end - at >= 2) {
      const b0 = buf[at];
      const b1 = buf[at + 1];
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if ((b0 & 0x70) !== 0) return this.#fail(1002, "Invalid frame: reserved bits set");
      if ((b1 & 0x80) === 0) return this.#fail(1002, "Invalid frame: not masked");
      let length = b1 & 0x7f;
      let start = at + 2;
      if (length === 126) {
        if (end - at < 4) break;
        length = buf.readUInt16BE(at + 2);
        start = at + 4;
      } else if (length === 127) {
        if (end - at < 10) break;
        if (buf.readUInt32BE(at + 2) !== 0) return this.#fail(1009, "Message too big");
        length = buf.readUInt32BE(at + 6);
        start = at + 10;
      }
      if (opcode >= 0x8) {
        if (opcode > 0xa) return this.#fail(1002, "Invalid opcode");
        if (!fin || length > 125) return this.#fail(1002, "Invalid control frame");
      } else if (opcode === 0) {
        if (this.#fragmentOpcode === 0) return this.#fail(1002, "Unexpected continuation frame");
      } else if (opcode > 0x2) return this.#fail(1002, "Invalid opcode");
      else if (this.#fragmentOpcode !== 0) return this.#fail(1002, "Expected a continuation");
      if (length > this.#maxPayload || this.#fragmentBytes + length > this.#maxPayload) {
        return this.#fail(1009, "Message too big");
      }
      if (end - start < 4 + length) {
        needed = start - at + 4 + length;
        break;
      }
      const mask = start;
      start += 4;
      const stop = start + length;
      // Unmask in place (the chunk is ours), noting whether every byte is ASCII on the way.
      let high = 0;
      for (let i = start, m = 0; i < stop; i++, m = (m + 1) & 3) {
        const b = buf[i] ^ buf[mask + m];
        buf[i] = b;
        high |= b;
      }
      at = stop;
      if (opcode === 0x1 && fin) {
        this.#text(buf, start, stop, high < 0x80);
      } else if (opcode >= 0x8) {
        this.#handlers.alive();
        this.#control(opcode, buf.subarray(start, stop));
      } else if (opcode === 0x2 && fin) {
        this.#handlers.binary();
      } else {
        // A fragment: copied, since the chunk it came in is reused by the next frames. Empty ones
        // hold nothing; more than MAX_FRAGMENTS would cost an object each (no client fragments a
        // signaling message that much: browsers and Godot send whole messages).
        if (opcode !== 0) this.#fragmentOpcode = opcode;
        if (length > 0) this.#fragments.push(Buffer.from(buf.subarray(start, stop)));
        if (this.#fragments.length > MAX_FRAGMENTS) return this.#fail(1008, "Too many fragments");
        this.#fragmentBytes += length;
        if (fin) {
          const whole = Buffer.concat(this.#fragments);
          const kind = this.#fragmentOpcode;
          this.#fragments = [];
          this.#fragmentOpcode = 0;
          this.#fragmentBytes = 0;
          if (kind === 0x1) this.#text(whole, 0, whole.length, false);
          else this.#handlers.binary();
        }
      }
    }
    if (this.#state !== State.Closed && at < end) {
      this.#pending = [buf.subarray(at)];
      this.#pendingBytes = end - at;
      this.#needed = needed > 0 ? needed : end - at + 1;
    }
  }

  #text(buf: Buffer, start: number, stop: number, ascii: boolean): void {
    if (!ascii && !isUtf8(buf.subarray(start, stop))) {
      return this.#fail(1007, "Invalid UTF-8");
    }
    if (this.#state === State.Open) {
      this.#handlers.text(buf.toString(ascii ? "latin1" : "utf8", start, stop));
    }
  }

  #control(opcode: number, payload: Buffer): void {
    if (opcode === 0x9) {
      if (this.#state === State.Open) this.#socket.write(frame(0xa, payload));
      return;
    }
    if (opcode === 0xa) return;
    // Close: validate, answer (echoing the code) unless we started it, then end.
    let code = 1005;
    if (payload.length === 1) return this.#fail(1002, "Invalid close frame");
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      if (!validCloseCode(code)) return this.#fail(1002, "Invalid close code");
      if (!isUtf8(payload.subarray(2))) return this.#fail(1007, "Invalid UTF-8");
    }
    if (this.#state === State.Open) this.#sendClose(code === 1005 ? 1000 : code, "");
    this.#state = State.Closing;
    this.#pending = undefined;
    this.#socket.end();
    this.#closeTimer ??= setTimeout(() => this.#socket.destroy(), CLOSE_TIMEOUT_MS);
  }
}

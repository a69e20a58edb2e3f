/**
 * The text protocol of Godot's `networking/webrtc_signaling` demo (Godot 3), as pure parse and
 * format functions. See `PROTOCOL.md` beside this file for the byte-level description.
 *
 * Every frame is a WebSocket text frame: a command line `X: arg` ended by `\n`, then an optional
 * payload (everything after the first `\n`, relayed verbatim).
 *
 * @module
 */
import { MAX_PEER_ID } from "../core/constants.ts";

/** The id every lobby member sees for the lobby's host (its creator). */
export const HOST_ID = 1;

/** The default port of the Godot demo's servers. */
export const DEFAULT_PORT = 9080;

/** Close code of every protocol violation and refusal (the Godot demo's only custom code). */
export const CLOSE_PROTOCOL_ERROR = 4000;

/** Close code used when a sealed lobby is closed after its seal timeout. */
export const CLOSE_NORMAL = 1000;

/** Close code used when the server shuts down. */
export const CLOSE_GOING_AWAY = 1001;

/**
 * Close reasons. The `STR_*`-named ones are the Godot demo's `server.js` strings, byte for byte;
 * the others are ours, for limits the demo does not have.
 *
 * @example
 * ```ts
 * import { Reasons } from "./protocol.ts";
 * console.log(Reasons.HOST_DISCONNECTED); // "Room host has disconnected"
 * ```
 */
export const Reasons = {
  /** `STR_NO_LOBBY`: no `J:` within the join timeout. */
  NO_LOBBY: "Have not joined lobby yet",
  /** `STR_HOST_DISCONNECTED`: sent to every member when the host leaves. */
  HOST_DISCONNECTED: "Room host has disconnected",
  /** `STR_ONLY_HOST_CAN_SEAL`. */
  ONLY_HOST_CAN_SEAL: "Only host can seal the lobby",
  /** `STR_SEAL_COMPLETE`: code 1000, the seal timeout passed. */
  SEAL_COMPLETE: "Seal complete",
  /** `STR_TOO_MANY_LOBBIES`. */
  TOO_MANY_LOBBIES: "Too many lobbies open, disconnecting",
  /** `STR_ALREADY_IN_LOBBY`. */
  ALREADY_IN_LOBBY: "Already in a lobby",
  /** `STR_LOBBY_DOES_NOT_EXISTS` (sic). */
  LOBBY_DOES_NOT_EXISTS: "Lobby does not exists",
  /** `STR_LOBBY_IS_SEALED`. */
  LOBBY_IS_SEALED: "Lobby is sealed",
  /** `STR_INVALID_FORMAT`: no `\n`, or a command line shorter than 3 characters. */
  INVALID_FORMAT: "Invalid message format",
  /** `STR_NEED_LOBBY`: `S:`/`O:`/`A:`/`C:` before `J:`. */
  NEED_LOBBY: "Invalid message when not in a lobby",
  /** `STR_SERVER_ERROR`. Kept for completeness; our lobby rules never produce it. */
  SERVER_ERROR: "Server error, lobby not found",
  /** `STR_INVALID_DEST`: not an id, or no such member of the sender's lobby. */
  INVALID_DEST: "Invalid destination",
  /** `STR_INVALID_CMD`: an unknown command letter. */
  INVALID_CMD: "Invalid command",
  /** `STR_TOO_MANY_PEERS`: the server's connection limit. */
  TOO_MANY_PEERS: "Too many peers connected",
  /** `STR_INVALID_TRANSFER_MODE`: a binary frame. */
  INVALID_TRANSFER_MODE: "Invalid transfer mode, must be text",
  /** Ours: a frame larger than the configured maximum. */
  MESSAGE_TOO_BIG: "Message too big",
  /** Ours: the per-connection message rate was exceeded. */
  TOO_MANY_MESSAGES: "Too many messages",
  /** Ours: the lobby has the configured maximum of members. */
  LOBBY_FULL: "Lobby is full",
  /** Ours: code 1001, the server is stopping. */
  SERVER_SHUTDOWN: "Server shutting down",
  /** Ours: a Godot 3 client asked to join a client/server lobby (Godot 3's protocol has none). */
  CLIENT_SERVER_NEEDS_GODOT4: "Lobby is client/server: Godot 3 clients cannot join it",
  /**
   * Ours: a Godot 3 client asked to join a mesh lobby whose host speaks Godot 4: the two sides'
   * rules for who offers leave that pair with no offerer (see PROTOCOL.md, mixed lobbies).
   */
  GODOT4_HOST_NEEDS_GODOT4: "Lobby host uses Godot 4: Godot 3 clients cannot join it",
} as const;

/** One of the close reasons in {@link Reasons}. */
export type Reason = typeof Reasons[keyof typeof Reasons];

/** The three relayed commands: offer, answer, ICE candidate. */
export type RelayCommand = "O" | "A" | "C";

/** A frame a client sends, as the server understands it. */
export type ClientMessage =
  /**
   * `J: <lobby>\n`; an empty lobby asks for a new lobby. `mesh: false` (Godot 4 only) asks for a
   * client/server lobby when creating one; absent means a mesh lobby.
   */
  | { readonly type: "join"; readonly lobby: string; readonly mesh?: boolean }
  /** `S: \n`. */
  | { readonly type: "seal" }
  /** `O|A|C: <dest>\n<payload>`; the payload is relayed byte for byte. */
  | {
    readonly type: "relay";
    readonly command: RelayCommand;
    readonly dest: number;
    readonly payload: string;
  };

/** A frame the server sends, as a client understands it. */
export type ServerMessage =
  /**
   * `I: <id>\n`: your id in the lobby. `mesh: false` (Godot 4 only): the lobby is client/server;
   * absent means mesh.
   */
  | { readonly type: "id"; readonly id: number; readonly mesh?: boolean }
  /** `J: <lobby>\n`: you joined this lobby (sent after `I:` and the `N:`s). */
  | { readonly type: "joined"; readonly lobby: string }
  /** `N: <id>\n`: this member is (or just became) in your lobby. */
  | { readonly type: "peer_connected"; readonly id: number }
  /** `D: <id>\n`: this member left. */
  | { readonly type: "peer_disconnected"; readonly id: number }
  /** `S: \n`: the host sealed the lobby. */
  | { readonly type: "sealed" }
  /** `O: <from>\n<sdp>`. */
  | { readonly type: "offer"; readonly from: number; readonly sdp: string }
  /** `A: <from>\n<sdp>`. */
  | { readonly type: "answer"; readonly from: number; readonly sdp: string }
  /** `C: <from>\n<mid>\n<index>\n<candidate>`. */
  | {
    readonly type: "candidate";
    readonly from: number;
    readonly mid: string;
    readonly index: number;
    readonly candidate: string;
  };

/** The outcome of a parse: the message, or the reason it is invalid. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/** A successful {@link Parsed}. */
export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/** A failed {@link Parsed}. */
export function err<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

const DECIMAL = /^[0-9]+$/;

/**
 * Parses a peer id as the protocol writes it: decimal digits only, value in 1..2147483647.
 *
 * @example
 * ```ts
 * import { parsePeerId } from "./protocol.ts";
 * console.log(parsePeerId("42"), parsePeerId("0"), parsePeerId("4x")); // 42 undefined undefined
 * ```
 */
export function parsePeerId(text: string): number | undefined {
  if (!DECIMAL.test(text) || text.length > 10) return undefined;
  const id = Number(text);
  return id >= 1 && id <= MAX_PEER_ID ? id : undefined;
}

/**
 * Parses a frame sent by a client (server side). Follows the demo's `parseMsg`: the command line
 * is everything before the first `\n` and must be at least 3 characters; `J: ` takes the trimmed
 * rest of the line as the lobby name; `S: ` ignores the rest; `O: `, `A: `, `C: ` take a
 * destination id and relay everything after the first `\n` unchanged. Errors are
 * {@link Reasons} strings.
 *
 * @example
 * ```ts
 * import { parseClientMessage } from "./protocol.ts";
 * console.log(parseClientMessage("O: 1\nv=0"));
 * // { ok: true, value: { type: "relay", command: "O", dest: 1, payload: "v=0" } }
 * console.log(parseClientMessage("J: abc")); // { ok: false, error: "Invalid message format" }
 * ```
 */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  const sep = text.indexOf("\n");
  if (sep < 0) return err(Reasons.INVALID_FORMAT);
  const line = text.slice(0, sep);
  if (line.length < 3) return err(Reasons.INVALID_FORMAT);
  const head = line.slice(0, 3);
  const arg = line.slice(3).trim();
  switch (head) {
    case "J: ":
      return ok({ type: "join", lobby: arg });
    case "S: ":
      return ok({ type: "seal" });
    case "O: ":
    case "A: ":
    case "C: ": {
      const dest = parsePeerId(arg);
      if (dest === undefined) return err(Reasons.INVALID_DEST);
      return ok({
        type: "relay",
        command: head[0] as RelayCommand,
        dest,
        payload: text.slice(sep + 1),
      });
    }
    default:
      return err(Reasons.INVALID_CMD);
  }
}

/**
 * Formats a frame for a client to send.
 *
 * @example
 * ```ts
 * import { formatClientMessage } from "./protocol.ts";
 * console.log(JSON.stringify(formatClientMessage({ type: "join", lobby: "" }))); // "J: \n"
 * console.log(JSON.stringify(formatClientMessage({ type: "seal" }))); // "S: \n"
 * ```
 */
export function formatClientMessage(message: ClientMessage): string {
  switch (message.type) {
    case "join":
      return `J: ${message.lobby}\n`;
    case "seal":
      return "S: \n";
    case "relay":
      return `${message.command}: ${message.dest}\n${message.payload}`;
  }
}

/**
 * Formats a frame for the server to send. Relays carry the sender's id in place of the
 * destination.
 *
 * @example
 * ```ts
 * import { formatServerMessage } from "./protocol.ts";
 * console.log(JSON.stringify(formatServerMessage({ type: "id", id: 1 }))); // "I: 1\n"
 * console.log(JSON.stringify(formatServerMessage({ type: "answer", from: 7, sdp: "v=0" })));
 * // "A: 7\nv=0"
 * ```
 */
export function formatServerMessage(message: ServerMessage): string {
  switch (message.type) {
    case "id":
      return `I: ${message.id}\n`;
    case "joined":
      return `J: ${message.lobby}\n`;
    case "peer_connected":
      return `N: ${message.id}\n`;
    case "peer_disconnected":
      return `D: ${message.id}\n`;
    case "sealed":
      return "S: \n";
    case "offer":
      return `O: ${message.from}\n${message.sdp}`;
    case "answer":
      return `A: ${message.from}\n${message.sdp}`;
    case "candidate":
      return formatCandidate(message.from, message.mid, message.index, message.candidate);
  }
}

/**
 * Formats a candidate frame: `C: <id>\n<mid>\n<index>\n<candidate>` (the same shape both ways).
 *
 * @example
 * ```ts
 * import { formatCandidate } from "./protocol.ts";
 * console.log(JSON.stringify(formatCandidate(2, "0", 0, "candidate:1 1 UDP 1 ::1 5000 typ host")));
 * // "C: 2\n0\n0\ncandidate:1 1 UDP 1 ::1 5000 typ host"
 * ```
 */
export function formatCandidate(
  id: number,
  mid: string,
  index: number,
  candidate: string,
): string {
  return `C: ${id}\n${mid}\n${index}\n${candidate}`;
}

/**
 * Parses a frame sent by the server (client side). Follows the demo's `ws_webrtc_client.gd`:
 * `J: ` gives the rest of the line untrimmed, `S: ` ignores it, the others need an id; a candidate
 * payload must split (dropping empty parts) into exactly mid, integer index and candidate.
 *
 * @example
 * ```ts
 * import { parseServerMessage } from "./protocol.ts";
 * console.log(parseServerMessage("C: 1\n0\n0\ncandidate:x"));
 * // { ok: true, value: { type: "candidate", from: 1, mid: "0", index: 0, candidate: "candidate:x" } }
 * console.log(parseServerMessage("N: x\n")); // { ok: false, error: "Invalid id in \"N: x\"" }
 * ```
 */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  const sep = text.indexOf("\n");
  if (sep < 0) return err("Missing newline after the command");
  const line = text.slice(0, sep);
  const payload = text.slice(sep + 1);
  if (line.length < 3) return err(`Command too short: ${JSON.stringify(line)}`);
  const head = line.slice(0, 3);
  const arg = line.slice(3);
  if (head === "J: ") return ok({ type: "joined", lobby: arg });
  if (head === "S: ") return ok({ type: "sealed" });
  if (!["I: ", "N: ", "D: ", "O: ", "A: ", "C: "].includes(head)) {
    return err(`Unknown command ${JSON.stringify(line.slice(0, 40))}`);
  }
  const id = parsePeerId(arg.trim());
  if (id === undefined) return err(`Invalid id in ${JSON.stringify(line.slice(0, 40))}`);
  switch (head) {
    case "I: ":
      return ok({ type: "id", id });
    case "N: ":
      return ok({ type: "peer_connected", id });
    case "D: ":
      return ok({ type: "peer_disconnected", id });
    case "O: ":
      return ok({ type: "offer", from: id, sdp: payload });
    case "A: ":
      return ok({ type: "answer", from: id, sdp: payload });
    default:
      return parseCandidate(id, payload);
  }
}

/**
 * Parses a relayed candidate's payload `<mid>\n<index>\n<candidate>` as Godot's clients do
 * (both versions): split on `\n` dropping empty parts, exactly 3 parts, an integer index. Godot 4's
 * leading `\n` is therefore harmless.
 *
 * @example
 * ```ts
 * import { parseCandidate } from "./protocol.ts";
 * console.log(parseCandidate(3, "\n0\n0\ncandidate:x"));
 * // { ok: true, value: { type: "candidate", from: 3, mid: "0", index: 0, candidate: "candidate:x" } }
 * ```
 */
export function parseCandidate(from: number, payload: string): Parsed<ServerMessage> {
  const parts = payload.split("\n").filter((p) => p !== "");
  if (parts.length !== 3) {
    return err(`Candidate from ${from} needs 3 lines (mid, index, candidate)`);
  }
  if (!/^-?[0-9]+$/.test(parts[1])) {
    return err(`Candidate from ${from} has a non-integer index`);
  }
  return ok({
    type: "candidate",
    from,
    mid: parts[0],
    index: Number(parts[1]),
    candidate: parts[2],
  });
}

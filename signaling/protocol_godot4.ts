/**
 * The JSON protocol of Godot 4's `networking/webrtc_signaling` demo, as pure parse and format
 * functions over the same message types as the Godot 3 text protocol (`protocol.ts`). See
 * `PROTOCOL.md` beside this file.
 *
 * Every frame is a WebSocket text frame holding one JSON object `{"type": int, "id": int,
 * "data": string}`. Types: JOIN 0, ID 1, PEER_CONNECT 2, PEER_DISCONNECT 3, OFFER 4, ANSWER 5,
 * CANDIDATE 6, SEAL 7. A candidate's data is `"\n<mid>\n<index>\n<candidate>"`.
 *
 * @module
 */
import { MAX_PEER_ID } from "../core/constants.ts";
import {
  type ClientMessage,
  err,
  ok,
  parseCandidate,
  type Parsed,
  Reasons,
  type RelayCommand,
  type ServerMessage,
} from "./protocol.ts";

/**
 * The message types of the Godot 4 demo (`Message` in `ws_webrtc_client.gd`, `CMD` in
 * `server.js`).
 *
 * @example
 * ```ts
 * import { MessageType } from "./protocol_godot4.ts";
 * console.log(MessageType.CANDIDATE); // 6
 * ```
 */
export const MessageType = {
  JOIN: 0,
  ID: 1,
  PEER_CONNECT: 2,
  PEER_DISCONNECT: 3,
  OFFER: 4,
  ANSWER: 5,
  CANDIDATE: 6,
  SEAL: 7,
} as const;

const RELAY_TYPE: Readonly<Record<RelayCommand, number>> = { O: 4, A: 5, C: 6 };

/** One decoded frame: integer type and id, string data. */
interface Frame {
  readonly type: number;
  readonly id: number;
  readonly data: string;
}

/**
 * Reads the three fields strictly: a JSON object whose `type` and `id` are non-negative integers
 * (at most 2^53) and whose `data` is a string (absent: `""`, unless `dataRequired`, as Godot's
 * client requires it). Anything else is `undefined`.
 */
function readFrame(text: string, dataRequired = false): Frame | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const { type, id, data } = json as Record<string, unknown>;
  if (!Number.isSafeInteger(type) || (type as number) < 0) return undefined;
  if (!Number.isSafeInteger(id) || (id as number) < 0) return undefined;
  if ((dataRequired || data !== undefined) && typeof data !== "string") return undefined;
  return { type: type as number, id: id as number, data: data ?? "" };
}

function frame(type: number, id: number, data = ""): string {
  return JSON.stringify({ type, id, data });
}

/**
 * Parses a frame sent by a Godot 4 client (server side). Errors are {@link Reasons} strings:
 * `Invalid message format` for anything but a JSON object with non-negative integer `type` and
 * `id` and a string (or absent) `data`; `Invalid command` for a type a client does not send;
 * `Invalid destination` for a relay whose id is not a peer id. JOIN's id 0 asks for a mesh lobby,
 * 1 for a client/server lobby (any other id is `Invalid message format`); SEAL ignores id and
 * data; a candidate's leading `\n` is removed, so the payload has the Godot 3 shape.
 *
 * @example
 * ```ts
 * import { parseClientMessage4 } from "./protocol_godot4.ts";
 * console.log(parseClientMessage4('{"type":0,"id":1,"data":""}'));
 * // { ok: true, value: { type: "join", lobby: "", mesh: false } }
 * console.log(parseClientMessage4('{"type":4.5,"id":1,"data":""}'));
 * // { ok: false, error: "Invalid message format" }
 * ```
 */
export function parseClientMessage4(text: string): Parsed<ClientMessage> {
  const f = readFrame(text);
  if (!f) return err(Reasons.INVALID_FORMAT);
  switch (f.type) {
    case MessageType.JOIN:
      if (f.id > 1) return err(Reasons.INVALID_FORMAT);
      return ok({ type: "join", lobby: f.data, mesh: f.id === 0 });
    case MessageType.SEAL:
      return ok({ type: "seal" });
    case MessageType.OFFER:
    case MessageType.ANSWER:
    case MessageType.CANDIDATE: {
      if (f.id < 1 || f.id > MAX_PEER_ID) return err(Reasons.INVALID_DEST);
      const command: RelayCommand = f.type === MessageType.OFFER
        ? "O"
        : f.type === MessageType.ANSWER
        ? "A"
        : "C";
      const payload = command === "C" && f.data.startsWith("\n") ? f.data.slice(1) : f.data;
      return ok({ type: "relay", command, dest: f.id, payload });
    }
    default:
      return err(Reasons.INVALID_CMD);
  }
}

/**
 * Formats a frame for a Godot 4 client to send, as `ws_webrtc_client.gd` does (a candidate's
 * payload gets its leading `\n`).
 *
 * @example
 * ```ts
 * import { formatClientMessage4 } from "./protocol_godot4.ts";
 * console.log(formatClientMessage4({ type: "join", lobby: "", mesh: false }));
 * // {"type":0,"id":1,"data":""}
 * console.log(formatClientMessage4({ type: "relay", command: "C", dest: 1, payload: "0\n0\nc" }));
 * // {"type":6,"id":1,"data":"\n0\n0\nc"}
 * ```
 */
export function formatClientMessage4(message: ClientMessage): string {
  switch (message.type) {
    case "join":
      return frame(MessageType.JOIN, message.mesh === false ? 1 : 0, message.lobby);
    case "seal":
      return frame(MessageType.SEAL, 0);
    case "relay":
      return formatRelay4(message.command, message.dest, message.payload);
  }
}

/**
 * Formats a relayed offer, answer or candidate; `id` is the destination (client to server) or
 * the sender (server to client); a candidate payload in the Godot 3 shape gets the leading `\n`.
 *
 * @example
 * ```ts
 * import { formatRelay4 } from "./protocol_godot4.ts";
 * console.log(formatRelay4("O", 7, "v=0")); // {"type":4,"id":7,"data":"v=0"}
 * ```
 */
export function formatRelay4(command: RelayCommand, id: number, payload: string): string {
  return frame(RELAY_TYPE[command], id, command === "C" ? `\n${payload}` : payload);
}

/**
 * Formats a frame for the server to send to a Godot 4 client, as Godot's `server.js` does: ID
 * carries `"true"` for a mesh lobby, JOIN carries the lobby name with id 0, SEAL has id 0.
 *
 * @example
 * ```ts
 * import { formatServerMessage4 } from "./protocol_godot4.ts";
 * console.log(formatServerMessage4({ type: "id", id: 1, mesh: true })); // {"type":1,"id":1,"data":"true"}
 * console.log(formatServerMessage4({ type: "joined", lobby: "L" })); // {"type":0,"id":0,"data":"L"}
 * ```
 */
export function formatServerMessage4(message: ServerMessage): string {
  switch (message.type) {
    case "id":
      return frame(MessageType.ID, message.id, message.mesh === false ? "" : "true");
    case "joined":
      return frame(MessageType.JOIN, 0, message.lobby);
    case "peer_connected":
      return frame(MessageType.PEER_CONNECT, message.id);
    case "peer_disconnected":
      return frame(MessageType.PEER_DISCONNECT, message.id);
    case "sealed":
      return frame(MessageType.SEAL, 0);
    case "offer":
      return formatRelay4("O", message.from, message.sdp);
    case "answer":
      return formatRelay4("A", message.from, message.sdp);
    case "candidate":
      return formatRelay4(
        "C",
        message.from,
        `${message.mid}\n${message.index}\n${message.candidate}`,
      );
  }
}

/**
 * Parses a frame sent by the server (client side), as `ws_webrtc_client.gd` does: a JSON object
 * with `type`, `id` and a string `data`; ID's data `"true"` means mesh; a candidate must split
 * (dropping empty parts) into mid, integer index and candidate. Ours: ids must be integers, and
 * ids of peers must be in 1..2147483647.
 *
 * @example
 * ```ts
 * import { parseServerMessage4 } from "./protocol_godot4.ts";
 * console.log(parseServerMessage4('{"type":1,"id":5,"data":""}'));
 * // { ok: true, value: { type: "id", id: 5, mesh: false } }
 * ```
 */
export function parseServerMessage4(text: string): Parsed<ServerMessage> {
  const f = readFrame(text, true);
  if (!f) return err("Not a JSON object with integer type and id and string data");
  if (f.type === MessageType.JOIN) return ok({ type: "joined", lobby: f.data });
  if (f.type === MessageType.SEAL) return ok({ type: "sealed" });
  if (f.type > MessageType.SEAL) return err(`Unknown message type ${f.type}`);
  if (f.id < 1 || f.id > MAX_PEER_ID) return err(`Invalid id ${f.id} in a type ${f.type} frame`);
  switch (f.type) {
    case MessageType.ID:
      return ok({ type: "id", id: f.id, mesh: f.data === "true" });
    case MessageType.PEER_CONNECT:
      return ok({ type: "peer_connected", id: f.id });
    case MessageType.PEER_DISCONNECT:
      return ok({ type: "peer_disconnected", id: f.id });
    case MessageType.OFFER:
      return ok({ type: "offer", from: f.id, sdp: f.data });
    case MessageType.ANSWER:
      return ok({ type: "answer", from: f.id, sdp: f.data });
    default:
      return parseCandidate(f.id, f.data);
  }
}

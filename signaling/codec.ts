/**
 * The server's edge: which protocol a socket speaks, and the codec of each. The lobby rules
 * (`lobby.ts`) see only protocol-neutral messages; they decode a frame with the codec of its
 * sender and encode every frame with the codec of its receiver, which is all it takes for a
 * Godot 3 client and a Godot 4 client to share a mesh lobby.
 *
 * @module
 */
import {
  type ClientMessage,
  formatServerMessage,
  parseClientMessage,
  type Parsed,
  type RelayCommand,
  type ServerMessage,
} from "./protocol.ts";
import { formatRelay4, formatServerMessage4, parseClientMessage4 } from "./protocol_godot4.ts";

/** The two protocols: Godot 3's text lines, Godot 4's JSON objects. */
export type Protocol = "godot3" | "godot4";

/**
 * What the server sends: a {@link ServerMessage} other than the relays, or a relay whose payload
 * is kept verbatim in the Godot 3 shape (a candidate without Godot 4's leading `\n`).
 */
export type OutgoingMessage =
  | Exclude<ServerMessage, { readonly type: "offer" | "answer" | "candidate" }>
  | {
    readonly type: "relay";
    readonly command: RelayCommand;
    /** The sender's id as the receiver knows it (1 for the host). */
    readonly from: number;
    readonly payload: string;
  };

/**
 * The protocol of a socket, from its first frame: a frame whose first non-blank character is `{`
 * is Godot 4's (a JSON object, or `Invalid message format`); any other is Godot 3's (and gets that
 * protocol's errors: `Invalid message format` unless it is a command line, `Invalid message when
 * not in a lobby` for `S:`, `O:`, `A:`, `C:` before joining...).
 *
 * @example
 * ```ts
 * import { detectProtocol } from "./codec.ts";
 * console.log(detectProtocol("J: \n"), detectProtocol('{"type":0,"id":0,"data":""}'));
 * // godot3 godot4
 * ```
 */
export function detectProtocol(firstFrame: string): Protocol {
  return firstFrame.trimStart().startsWith("{") ? "godot4" : "godot3";
}

/**
 * Decodes a client's frame with its protocol's codec. Errors are close reasons.
 *
 * @example
 * ```ts
 * import { decodeClient } from "./codec.ts";
 * console.log(decodeClient("godot4", '{"type":7,"id":0,"data":""}')); // { ok: true, value: { type: "seal" } }
 * ```
 */
export function decodeClient(protocol: Protocol, text: string): Parsed<ClientMessage> {
  return protocol === "godot4" ? parseClientMessage4(text) : parseClientMessage(text);
}

/**
 * Encodes a server frame for a receiver speaking `protocol`.
 *
 * @example
 * ```ts
 * import { encodeServer } from "./codec.ts";
 * const relay = { type: "relay", command: "C", from: 9, payload: "0\n0\nc" } as const;
 * console.log(JSON.stringify(encodeServer("godot3", relay))); // "C: 9\n0\n0\nc"
 * console.log(encodeServer("godot4", relay)); // {"type":6,"id":9,"data":"\n0\n0\nc"}
 * ```
 */
export function encodeServer(protocol: Protocol, message: OutgoingMessage): string {
  if (message.type === "relay") {
    return protocol === "godot4"
      ? formatRelay4(message.command, message.from, message.payload)
      : `${message.command}: ${message.from}\n${message.payload}`;
  }
  return protocol === "godot4" ? formatServerMessage4(message) : formatServerMessage(message);
}

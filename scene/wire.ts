/**
 * SceneMultiplayer's packets, byte by byte (`../shared/research/scenemultiplayer-wire.md`): the
 * builders for every command and one parser that either returns a typed packet or a named reason
 * why the bytes are not one. Pure; no state.
 *
 * One SceneMultiplayer message is exactly one MultiplayerPeer packet. Integers are little-endian;
 * peer ids are int32.
 *
 * @module
 */

/** `SceneMultiplayer::NetworkCommands`: the low 3 bits of byte 0. */
export enum NetworkCommand {
  REMOTE_CALL = 0,
  SIMPLIFY_PATH = 1,
  CONFIRM_PATH = 2,
  RAW = 3,
  SPAWN = 4,
  DESPAWN = 5,
  SYNC = 6,
  SYS = 7,
}

/** `SceneMultiplayer::SysCommands`: byte 1 of a SYS packet. */
export enum SysCommand {
  AUTH = 0,
  ADD_PEER = 1,
  DEL_PEER = 2,
  RELAY = 3,
}

/** `CMD_MASK`: byte 0 & 7 is the command. */
export const CMD_MASK = 7;
/** `SYS_CMD_SIZE`: command + sys command + int32 peer id. */
export const SYS_CMD_SIZE = 6;
/** Length of the md5 field of SIMPLIFY_PATH: 32 hex chars + NUL. */
export const MD5_FIELD = 33;
/** Smallest SIMPLIFY_PATH Godot accepts. */
export const SIMPLIFY_PATH_MIN = 38;

/** Every reason a packet can be refused, by the parser or by the rules (counted per reason). */
export type RejectReason =
  // Shape (the parser).
  | "empty"
  | "sys_too_short"
  | "sys_unknown_command"
  | "relay_empty"
  | "raw_empty"
  | "simplify_path_too_short"
  | "simplify_path_bad_utf8"
  | "confirm_path_bad_size"
  | "rpc_too_short"
  | "rpc_bad_node_compression"
  | "rpc_path_offset_out_of_range"
  | "rpc_bad_path"
  | "rpc_args_truncated"
  | "rpc_args_invalid"
  | "rpc_args_unsupported"
  | "rpc_args_too_deep"
  | "spawn_too_short"
  | "despawn_too_short"
  | "sync_too_short"
  // Rules (the state machine).
  | "unknown_peer"
  | "not_admitted"
  | "auth_confirm_bad_size"
  | "sys_not_from_server"
  | "relay_not_supported"
  | "relay_target_gone"
  | "relay_inner_sys"
  | "sys_invalid_peer_id"
  | "add_peer_duplicate"
  | "del_peer_unknown"
  | "simplify_path_unknown_node"
  | "simplify_path_duplicate_id"
  | "confirm_path_unrequested"
  | "rpc_checksum_mismatch"
  | "rpc_unknown_cache_id"
  | "rpc_unknown_node"
  | "rpc_unknown_method"
  | "rpc_not_allowed";

/** A refused packet: why, and a human sentence with the details. */
export interface Malformed {
  /** Discriminant. */
  readonly kind: "malformed";
  /** The counted reason. */
  readonly reason: RejectReason;
  /** Details for the log. */
  readonly detail: string;
}

/** A SceneMultiplayer RPC packet's header; arguments are decoded by `decodeRpcArgs`. */
export interface RpcPacket {
  /** Discriminant. */
  readonly kind: "rpc";
  /** The node: the SENDER's path-cache id (when `path` is undefined). */
  readonly cacheId: number;
  /** The node path relative to the root (`Main/Player`), when the packet carries it. */
  readonly path?: string;
  /** The method id (index in the name-sorted RPC list). */
  readonly methodId: number;
  /** Bit 7: no argc byte; the rest is one raw PackedByteArray or nothing. */
  readonly byteOnly: boolean;
  /** The whole packet. */
  readonly bytes: Uint8Array;
  /** Where the argc byte (or the raw bytes) start. */
  readonly argsStart: number;
  /** Where the arguments end (the path starts there when it is present). */
  readonly argsEnd: number;
}

/** A parsed SceneMultiplayer packet. */
export type Packet =
  | { readonly kind: "auth"; readonly data: Uint8Array }
  | { readonly kind: "auth_confirm" }
  | { readonly kind: "add_peer"; readonly peer: number }
  | { readonly kind: "del_peer"; readonly peer: number }
  | { readonly kind: "relay"; readonly peer: number; readonly inner: Uint8Array }
  | { readonly kind: "raw"; readonly data: Uint8Array }
  | {
    readonly kind: "simplify_path";
    readonly md5: string;
    readonly cacheId: number;
    readonly path: string;
  }
  | { readonly kind: "confirm_path"; readonly valid: boolean; readonly cacheId: number }
  | RpcPacket
  | {
    readonly kind: "replication";
    readonly command: "spawn" | "despawn" | "sync" | "delta";
    readonly data: Uint8Array;
  };

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function bad(reason: RejectReason, detail: string): Malformed {
  return { kind: "malformed", reason, detail };
}

/** A string up to its first NUL (or the end), strictly UTF-8; `undefined` when not UTF-8. */
export function cstring(b: Uint8Array, from: number, to = b.length): string | undefined {
  let end = from;
  while (end < to && b[end] !== 0) end++;
  try {
    return strictUtf8.decode(b.subarray(from, end));
  } catch {
    return undefined;
  }
}

/**
 * Parses one SceneMultiplayer packet as Godot's `poll`/`_process_sys`/`_process_packet` would
 * split it, checking every length. SYS AUTH is split into `auth` (data) and `auth_confirm`.
 *
 * @example
 * ```ts
 * import { parsePacket } from "./wire.ts";
 * console.log(parsePacket(new Uint8Array([0x07, 0x01, 0x4e, 0x61, 0xbc, 0x00])));
 * // { kind: "add_peer", peer: 12345678 }
 * ```
 */
export function parsePacket(b: Uint8Array): Packet | Malformed {
  if (b.length === 0) return bad("empty", "empty packet");
  const command = b[0] & CMD_MASK;
  switch (command) {
    case NetworkCommand.SYS: {
      if (b.length < 2) return bad("sys_too_short", `SYS of ${b.length} byte`);
      const sub = b[1];
      if (sub === SysCommand.AUTH) {
        return b.length === 2 ? { kind: "auth_confirm" } : { kind: "auth", data: b.slice(2) };
      }
      if (sub > SysCommand.RELAY) return bad("sys_unknown_command", `SYS sub-command ${sub}`);
      if (b.length < SYS_CMD_SIZE) {
        return bad("sys_too_short", `SYS ${SysCommand[sub]} of ${b.length} bytes (needs 6)`);
      }
      const peer = view(b).getInt32(2, true);
      if (sub === SysCommand.ADD_PEER) return { kind: "add_peer", peer };
      if (sub === SysCommand.DEL_PEER) return { kind: "del_peer", peer };
      if (b.length < SYS_CMD_SIZE + 1) return bad("relay_empty", "RELAY without an inner packet");
      return { kind: "relay", peer, inner: b.subarray(SYS_CMD_SIZE) };
    }
    case NetworkCommand.RAW:
      if (b.length < 2) return bad("raw_empty", "RAW without payload");
      return { kind: "raw", data: b.slice(1) };
    case NetworkCommand.SIMPLIFY_PATH: {
      if (b.length < SIMPLIFY_PATH_MIN) {
        return bad("simplify_path_too_short", `SIMPLIFY_PATH of ${b.length} bytes (needs 38)`);
      }
      const md5 = cstring(b, 1, 1 + 32);
      const path = cstring(b, 1 + MD5_FIELD + 4);
      if (md5 === undefined || path === undefined) {
        return bad("simplify_path_bad_utf8", "SIMPLIFY_PATH checksum or path is not UTF-8");
      }
      const cacheId = view(b).getUint32(1 + MD5_FIELD, true);
      return { kind: "simplify_path", md5, cacheId, path };
    }
    case NetworkCommand.CONFIRM_PATH:
      if (b.length !== 6) {
        return bad("confirm_path_bad_size", `CONFIRM_PATH of ${b.length} bytes (must be 6)`);
      }
      return { kind: "confirm_path", valid: b[1] !== 0, cacheId: view(b).getUint32(2, true) };
    case NetworkCommand.REMOTE_CALL:
      return parseRpc(b);
    case NetworkCommand.SPAWN:
      if (b.length < 18) return bad("spawn_too_short", `SPAWN of ${b.length} bytes (needs 18)`);
      return { kind: "replication", command: "spawn", data: b.slice() };
    case NetworkCommand.DESPAWN:
      if (b.length < 5) return bad("despawn_too_short", `DESPAWN of ${b.length} bytes (needs 5)`);
      return { kind: "replication", command: "despawn", data: b.slice() };
    default: {
      // SYNC (6); bit 4 marks a delta.
      if (b.length < 11) return bad("sync_too_short", `SYNC of ${b.length} bytes (needs 11)`);
      const delta = (b[0] & 0x10) !== 0;
      return { kind: "replication", command: delta ? "delta" : "sync", data: b.slice() };
    }
  }
}

/** RPC meta byte bits. */
const NODE_ID_SHIFT = 4;
const NAME_ID_SHIFT = 6;
/** Bit 7 of the RPC meta byte: no argc, raw bytes or nothing. */
export const BYTE_ONLY_OR_NO_ARGS_FLAG = 0x80;
/** Bit 31 of a 32-bit node target: the path follows the arguments at the offset in bits 0-30. */
export const PATH_FLAG = 0x80000000;

function parseRpc(b: Uint8Array): RpcPacket | Malformed {
  const nodeCompression = (b[0] >> NODE_ID_SHIFT) & 3;
  const nameCompression = (b[0] >> NAME_ID_SHIFT) & 1;
  if (nodeCompression === 3) {
    return bad("rpc_bad_node_compression", "RPC node id compression 3 does not exist");
  }
  const nodeBytes = [1, 2, 4][nodeCompression];
  const nameBytes = nameCompression ? 2 : 1;
  const argsStart = 1 + nodeBytes + nameBytes;
  if (b.length < argsStart) {
    return bad("rpc_too_short", `RPC of ${b.length} bytes (header needs ${argsStart})`);
  }
  const v = view(b);
  const target = nodeBytes === 1
    ? b[1]
    : nodeBytes === 2
    ? v.getUint16(1, true)
    : v.getUint32(1, true);
  const methodId = nameBytes === 1 ? b[1 + nodeBytes] : v.getUint16(1 + nodeBytes, true);
  const byteOnly = (b[0] & BYTE_ONLY_OR_NO_ARGS_FLAG) !== 0;
  if (nodeBytes === 4 && (target & PATH_FLAG) !== 0) {
    const ofs = target & 0x7fffffff;
    if (ofs >= b.length || ofs < argsStart) {
      return bad(
        "rpc_path_offset_out_of_range",
        `RPC path offset ${ofs} outside ${argsStart}..${b.length - 1}`,
      );
    }
    const path = cstring(b, ofs);
    if (path === undefined || path === "") {
      return bad("rpc_bad_path", "RPC path is empty or not UTF-8");
    }
    return { kind: "rpc", cacheId: 0, path, methodId, byteOnly, bytes: b, argsStart, argsEnd: ofs };
  }
  return {
    kind: "rpc",
    cacheId: target >>> 0,
    methodId,
    byteOnly,
    bytes: b,
    argsStart,
    argsEnd: b.length,
  };
}

function sys(sub: SysCommand, peer: number): Uint8Array {
  const out = new Uint8Array(SYS_CMD_SIZE);
  out[0] = NetworkCommand.SYS;
  out[1] = sub;
  view(out).setInt32(2, peer, true);
  return out;
}

/** `07 00 <data>`: authentication data (`send_auth`). */
export function authPacket(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + data.length);
  out[0] = NetworkCommand.SYS;
  out[1] = SysCommand.AUTH;
  out.set(data, 2);
  return out;
}

/** `07 00`: "my side of the authentication is complete" (`complete_auth`). */
export function authConfirmPacket(): Uint8Array {
  return new Uint8Array([NetworkCommand.SYS, SysCommand.AUTH]);
}

/** `07 01 <i32 id>`: the server announces a peer. */
export function addPeerPacket(peer: number): Uint8Array {
  return sys(SysCommand.ADD_PEER, peer);
}

/** `07 02 <i32 id>`: the server announces a peer's departure. */
export function delPeerPacket(peer: number): Uint8Array {
  return sys(SysCommand.DEL_PEER, peer);
}

/** `07 03 <i32 peer> <inner>`: a relayed packet (destination from a client, source from the server). */
export function relayPacket(peer: number, inner: Uint8Array): Uint8Array {
  const out = new Uint8Array(SYS_CMD_SIZE + inner.length);
  out[0] = NetworkCommand.SYS;
  out[1] = SysCommand.RELAY;
  view(out).setInt32(2, peer, true);
  out.set(inner, SYS_CMD_SIZE);
  return out;
}

/** `03 <data>`: `send_bytes`. */
export function rawPacket(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + data.length);
  out[0] = NetworkCommand.RAW;
  out.set(data, 1);
  return out;
}

/** `01 <md5 hex + NUL> <u32 cache id> <path + NUL>`: "call my node `path` by `cacheId`". */
export function simplifyPathPacket(md5: string, cacheId: number, path: string): Uint8Array {
  const p = utf8.encode(path);
  const m = utf8.encode(md5);
  if (m.length !== 32) throw new RangeError(`md5 must be 32 hex chars, got ${md5.length}`);
  const out = new Uint8Array(1 + MD5_FIELD + 4 + p.length + 1);
  out[0] = NetworkCommand.SIMPLIFY_PATH;
  out.set(m, 1);
  view(out).setUint32(1 + MD5_FIELD, cacheId, true);
  out.set(p, 1 + MD5_FIELD + 4);
  return out;
}

/** `02 <valid u8> <u32 cache id>`: the answer to SIMPLIFY_PATH. */
export function confirmPathPacket(valid: boolean, cacheId: number): Uint8Array {
  const out = new Uint8Array(6);
  out[0] = NetworkCommand.CONFIRM_PATH;
  out[1] = valid ? 1 : 0;
  view(out).setUint32(2, cacheId, true);
  return out;
}

/** How an RPC names its node. */
export type RpcNodeRef =
  /** By cache id, compressed to 1/2/4 bytes (every target confirmed the path). */
  | { readonly form: "compact"; readonly cacheId: number }
  /** By cache id in 32 bits (this target confirmed, another one did not). */
  | { readonly form: "id32"; readonly cacheId: number }
  /** By path appended after the arguments (this target has not confirmed). */
  | { readonly form: "path"; readonly path: string };

/**
 * An RPC packet. `args` is the argument section as {@link encodeRpcArgs} returns it (argc byte
 * and compressed variants, or raw bytes when `byteOnly`).
 */
export function rpcPacket(
  node: RpcNodeRef,
  methodId: number,
  byteOnly: boolean,
  args: Uint8Array,
): Uint8Array {
  let nodeCompression: number;
  let nodeBytes: number;
  if (node.form === "compact" && node.cacheId <= 0xff) [nodeCompression, nodeBytes] = [0, 1];
  else if (node.form === "compact" && node.cacheId <= 0xffff) [nodeCompression, nodeBytes] = [1, 2];
  else [nodeCompression, nodeBytes] = [2, 4];
  const nameBytes = methodId <= 0xff ? 1 : 2;
  const ofs = 1 + nodeBytes + nameBytes + args.length;
  const path = node.form === "path" ? utf8.encode(node.path) : undefined;
  const out = new Uint8Array(ofs + (path ? path.length + 1 : 0));
  const v = view(out);
  out[0] = NetworkCommand.REMOTE_CALL | (nodeCompression << NODE_ID_SHIFT) |
    ((nameBytes - 1) << NAME_ID_SHIFT) | (byteOnly ? BYTE_ONLY_OR_NO_ARGS_FLAG : 0);
  const target = node.form === "path" ? (PATH_FLAG | ofs) >>> 0 : node.cacheId;
  if (nodeBytes === 1) out[1] = target;
  else if (nodeBytes === 2) v.setUint16(1, target, true);
  else v.setUint32(1, target, true);
  if (nameBytes === 1) out[1 + nodeBytes] = methodId;
  else v.setUint16(1 + nodeBytes, methodId, true);
  out.set(args, 1 + nodeBytes + nameBytes);
  if (path) out.set(path, ofs);
  return out;
}

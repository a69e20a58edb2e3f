/**
 * RPC tables and arguments as Godot 4's SceneRPCInterface computes them: method ids are the
 * indices of the names sorted by code point, the checksum is the md5 of the names concatenated in
 * id order, and arguments are SceneMultiplayer's compressed variants (one PackedByteArray alone,
 * or no argument, goes without an argument count). Pure.
 *
 * @module
 */
import { TransferMode } from "../core/constants.ts";
import { md5Hex } from "./md5.ts";
import {
  ByteWriter,
  decodeCompressed,
  type Variant,
  VariantError,
  writeCompressed,
} from "./variant.ts";
import type { Malformed, RpcPacket } from "./wire.ts";

/** `MultiplayerAPI.RPCMode`. */
export enum RpcMode {
  /** Never callable remotely. */
  DISABLED = 0,
  /** Any peer may call it. */
  ANY_PEER = 1,
  /** Only the node's multiplayer authority may call it (GDScript's default). */
  AUTHORITY = 2,
}

/** One method's `@rpc` settings (GDScript defaults: authority, call_remote, reliable, channel 0). */
export interface RpcConfig {
  /** Who may call it. Default `AUTHORITY`. */
  readonly mode?: RpcMode;
  /** Transfer mode of its calls. Default `RELIABLE`. */
  readonly transferMode?: TransferMode;
  /** Channel of its calls. Default 0. */
  readonly channel?: number;
  /** Also run it locally when called with `rpc()`. Default false. */
  readonly callLocal?: boolean;
}

/** A resolved method of a node's RPC table. */
export interface RpcMethod {
  /** The method's name. */
  readonly name: string;
  /** Its id: the index of its name in the code-point-sorted list. */
  readonly id: number;
  /** Who may call it. */
  readonly mode: RpcMode;
  /** Transfer mode of its calls. */
  readonly transferMode: TransferMode;
  /** Channel of its calls. */
  readonly channel: number;
  /** Also run locally on `rpc()`. */
  readonly callLocal: boolean;
}

/** A node's RPC table. */
export interface RpcNode {
  /** The path relative to the multiplayer root (`Main/Player`), as on the wire. */
  readonly path: string;
  /** The peer allowed to call its AUTHORITY methods (Godot's default: 1). */
  readonly authority: number;
  /** Methods by id. */
  readonly methods: readonly RpcMethod[];
  /** Methods by name. */
  readonly byName: ReadonlyMap<string, RpcMethod>;
  /** md5 of the names concatenated in id order, lowercase hex (SIMPLIFY_PATH's checksum). */
  readonly md5: string;
}

/** Godot's `String <`: code point order (JS `<` compares UTF-16 units, which differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Builds a node's RPC table: ids in code-point order of the names, as Godot's `_parse_rpc_config`
 * numbers a script's `@rpc` methods.
 *
 * @example
 * ```ts
 * import { rpcNode } from "./rpc.ts";
 * const node = rpcNode("Main", { spawn_bullet: {}, chat: {}, _hit: {} });
 * console.log(node.methods.map((m) => `${m.id}:${m.name}`).join(" ")); // 0:_hit 1:chat 2:spawn_bullet
 * ```
 */
export function rpcNode(
  path: string,
  methods: { readonly [name: string]: RpcConfig },
  authority = 1,
): RpcNode {
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw new TypeError(`an RPC node path must be a non-empty string without NUL, got ${path}`);
  }
  if (!Number.isInteger(authority) || authority < 1 || authority > 2147483647) {
    throw new RangeError(`authority must be a peer id, got ${authority}`);
  }
  const names = Object.keys(methods).sort(compareCodePoints);
  if (names.length > 0x7fff) throw new RangeError(`at most 32767 RPC methods per node`);
  const list = names.map((name, id): RpcMethod => {
    const c = methods[name];
    const mode = c.mode ?? RpcMode.AUTHORITY;
    const transferMode = c.transferMode ?? TransferMode.RELIABLE;
    const channel = c.channel ?? 0;
    if (![0, 1, 2].includes(mode)) throw new RangeError(`${name}: bad rpc mode ${mode}`);
    if (![0, 1, 2].includes(transferMode)) {
      throw new RangeError(`${name}: bad transfer mode ${transferMode}`);
    }
    if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
      throw new RangeError(`${name}: bad channel ${channel}`);
    }
    return { name, id, mode, transferMode, channel, callLocal: c.callLocal ?? false };
  });
  return {
    path,
    authority,
    methods: list,
    byName: new Map(list.map((m) => [m.name, m])),
    md5: md5Hex(names.join("")),
  };
}

/** The argument section of an RPC packet. */
export interface EncodedArgs {
  /** Meta bit 7: no argc byte (no arguments, or one PackedByteArray as raw bytes). */
  readonly byteOnly: boolean;
  /** argc + compressed variants, or the raw bytes. */
  readonly bytes: Uint8Array;
}

/** `encode_and_compress_variants` for an RPC. Throws a `VariantError` naming a bad argument. */
export function encodeRpcArgs(args: readonly Variant[]): EncodedArgs {
  if (args.length === 0) return { byteOnly: true, bytes: new Uint8Array(0) };
  if (args.length === 1 && args[0] instanceof Uint8Array) {
    return { byteOnly: true, bytes: args[0] };
  }
  if (args.length > 255) throw new VariantError("range", `${args.length} arguments (at most 255)`);
  const w = new ByteWriter(32);
  w.u8(args.length);
  args.forEach((a, i) => {
    try {
      writeCompressed(w, a);
    } catch (e) {
      if (e instanceof VariantError) throw new VariantError(e.kind, `argument ${i}: ${e.message}`);
      throw e;
    }
  });
  return { byteOnly: false, bytes: w.finish() };
}

/** Decodes an RPC packet's arguments, or says why they are not valid. */
export function decodeRpcArgs(p: RpcPacket): Variant[] | Malformed {
  const b = p.bytes;
  if (p.byteOnly) return p.argsStart < p.argsEnd ? [b.slice(p.argsStart, p.argsEnd)] : [];
  if (p.argsStart >= p.argsEnd) {
    return { kind: "malformed", reason: "rpc_too_short", detail: "RPC without its argument count" };
  }
  const argc = b[p.argsStart];
  const out: Variant[] = [];
  let at = p.argsStart + 1;
  try {
    for (let i = 0; i < argc; i++) {
      if (at >= p.argsEnd) {
        throw new VariantError("truncated", `argument ${i} of ${argc}: no bytes left`);
      }
      const d = decodeCompressed(b, at, p.argsEnd);
      out.push(d.value);
      at += d.length;
    }
  } catch (e) {
    if (!(e instanceof VariantError)) throw e;
    const reason = e.kind === "unsupported"
      ? "rpc_args_unsupported"
      : e.kind === "too_deep"
      ? "rpc_args_too_deep"
      : e.kind === "truncated"
      ? "rpc_args_truncated"
      : "rpc_args_invalid";
    return { kind: "malformed", reason, detail: `argument ${out.length}: ${e.message}` };
  }
  return out;
}

/**
 * The SceneMultiplayer rules of RPCs and the node-path cache (theory of operation: rules 8 and 9 of
 * `reduce.ts`): outgoing RPCs with SIMPLIFY_PATH first and the compact, 32-bit or full-path form
 * per target; SIMPLIFY_PATH and CONFIRM_PATH answered and applied; incoming RPCs resolved,
 * checked and decoded.
 *
 * @module
 */
import { GodotError } from "../core/constants.ts";
import {
  checkSend,
  countReject,
  reject,
  RELIABLE,
  reply,
  type SceneStep,
  sendCommand,
  withMap,
} from "./_rules.ts";
import { decodeRpcArgs, encodeRpcArgs, RpcMode, type RpcNode } from "./rpc.ts";
import type { SceneEffect, SceneState, SentPath } from "./state.ts";
import { VariantError } from "./variant.ts";
import { confirmPathPacket, type RpcPacket, rpcPacket, simplifyPathPacket } from "./wire.ts";

/** Rule 9, outgoing. */
export function onRpc(
  s: SceneState,
  path: string,
  methodName: string,
  args: readonly unknown[],
  target: number,
): SceneStep {
  if (s.uniqueId === 0) return reply(s, GodotError.ERR_CONNECTION_ERROR, "not connected");
  const node = s.nodes.get(path);
  if (!node) return reply(s, GodotError.ERR_INVALID_PARAMETER, `no RPC node registered at ${path}`);
  const method = node.byName.get(methodName);
  if (!method) {
    return reply(s, GodotError.ERR_METHOD_NOT_FOUND, `${path} has no RPC method ${methodName}`);
  }
  const bad = checkSend(s, target === s.uniqueId ? 0 : target, 2, 0);
  if (bad) return reply(s, GodotError.ERR_INVALID_PARAMETER, bad);
  if (target === s.uniqueId && !method.callLocal) {
    return reply(
      s,
      GodotError.ERR_INVALID_PARAMETER,
      `RPC ${methodName} on ourselves without callLocal`,
    );
  }
  let encoded;
  try {
    encoded = encodeRpcArgs(args as never);
  } catch (e) {
    if (e instanceof VariantError) {
      return reply(s, GodotError.ERR_INVALID_PARAMETER, `RPC ${path}.${methodName}: ${e.message}`);
    }
    throw e;
  }
  const callLocal = method.callLocal &&
    (target === 0 || target === s.uniqueId || (target < 0 && -target !== s.uniqueId));
  const local: SceneEffect[] = callLocal
    ? [{ type: "RpcCalled", from: s.uniqueId, path, method: methodName, args: [...args] as never }]
    : [];
  if (target === s.uniqueId) return [s, local];
  const targets = target > 0 ? [target] : s.connected.filter((p) => !(target < 0 && p === -target));
  if (targets.length === 0) return [s, local];

  // Path cache: SIMPLIFY_PATH to targets that never got it.
  let entry: SentPath = s.sent.get(path) ?? { cacheId: s.nextCacheId, confirmed: new Map() };
  const nextCacheId = s.sent.has(path) ? s.nextCacheId : s.nextCacheId + 1;
  const effects: SceneEffect[] = [];
  let allConfirmed = true;
  const confirmed = new Map(entry.confirmed);
  for (const p of targets) {
    const c = confirmed.get(p);
    if (c === undefined) {
      effects.push(
        ...sendCommand(s, p, simplifyPathPacket(node.md5, entry.cacheId, path), RELIABLE, 0),
      );
      confirmed.set(p, false);
    }
    if (c !== true) allConfirmed = false;
  }
  entry = { ...entry, confirmed };
  const { transferMode, channel, id } = method;
  if (allConfirmed) {
    const packet = rpcPacket(
      { form: "compact", cacheId: entry.cacheId },
      id,
      encoded.byteOnly,
      encoded.bytes,
    );
    for (const p of targets) effects.push(...sendCommand(s, p, packet, transferMode, channel));
  } else {
    const byId = rpcPacket(
      { form: "id32", cacheId: entry.cacheId },
      id,
      encoded.byteOnly,
      encoded.bytes,
    );
    const byPath = rpcPacket({ form: "path", path }, id, encoded.byteOnly, encoded.bytes);
    for (const p of targets) {
      effects.push(
        ...sendCommand(s, p, entry.confirmed.get(p) ? byId : byPath, transferMode, channel),
      );
    }
  }
  return [{ ...s, sent: withMap(s.sent, path, entry), nextCacheId }, [...effects, ...local]];
}

export function onSimplifyPath(
  s: SceneState,
  from: number,
  md5: string,
  cacheId: number,
  path: string,
): SceneStep {
  const known = s.recv.get(from);
  if (!known) return reject(s, from, "unknown_peer", `SIMPLIFY_PATH from unknown peer ${from}`);
  const node = s.nodes.get(path);
  if (!node) return reject(s, from, "simplify_path_unknown_node", `no RPC node at ${path}`);
  if (known.has(cacheId)) {
    return reject(s, from, "simplify_path_duplicate_id", `cache id ${cacheId} reused by ${from}`);
  }
  const valid = node.md5 === md5;
  let next: SceneState = { ...s, recv: withMap(s.recv, from, withMap(known, cacheId, path)) };
  const effects = sendCommand(next, from, confirmPathPacket(valid, cacheId), RELIABLE, 0);
  if (valid) return [next, effects];
  next = countReject(next, "rpc_checksum_mismatch");
  return [next, [...effects, {
    type: "Rejected",
    from,
    reason: "rpc_checksum_mismatch",
    detail: `${path}: peer ${from}'s RPC methods differ from ours (md5 ${md5} vs ${node.md5})`,
  }]];
}

export function onConfirmPath(
  s: SceneState,
  from: number,
  valid: boolean,
  cacheId: number,
): SceneStep {
  let path: string | undefined;
  for (const [p, e] of s.sent) if (e.cacheId === cacheId) path = p;
  const entry = path === undefined ? undefined : s.sent.get(path);
  if (!entry || !entry.confirmed.has(from)) {
    return reject(
      s,
      from,
      "confirm_path_unrequested",
      `CONFIRM_PATH of id ${cacheId} we never sent ${from}`,
    );
  }
  const next: SceneState = {
    ...s,
    sent: withMap(s.sent, path!, { ...entry, confirmed: withMap(entry.confirmed, from, true) }),
  };
  if (valid) return [next, []];
  return [countReject(next, "rpc_checksum_mismatch"), [{
    type: "Rejected",
    from,
    reason: "rpc_checksum_mismatch",
    detail: `${path}: peer ${from} says its RPC methods differ from ours`,
  }]];
}

export function onRpcPacket(s: SceneState, from: number, p: RpcPacket): SceneStep {
  let path = p.path;
  if (path === undefined) {
    path = s.recv.get(from)?.get(p.cacheId);
    if (path === undefined) {
      return reject(s, from, "rpc_unknown_cache_id", `cache id ${p.cacheId} of ${from}`);
    }
  }
  const node: RpcNode | undefined = s.nodes.get(path);
  if (!node) return reject(s, from, "rpc_unknown_node", `no RPC node at ${path}`);
  const method = node.methods[p.methodId];
  if (!method) {
    return reject(s, from, "rpc_unknown_method", `${path} has no method id ${p.methodId}`);
  }
  const allowed = method.mode === RpcMode.ANY_PEER ||
    (method.mode === RpcMode.AUTHORITY && from === node.authority);
  if (!allowed) {
    return reject(
      s,
      from,
      "rpc_not_allowed",
      `${path}.${method.name} (mode ${RpcMode[method.mode]}) from ${from}`,
    );
  }
  const args = decodeRpcArgs(p);
  if (!Array.isArray(args)) {
    return reject(s, from, args.reason, `${path}.${method.name}: ${args.detail}`);
  }
  return [s, [{ type: "RpcCalled", from, path, method: method.name, args }]];
}

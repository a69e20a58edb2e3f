/**
 * The SceneMultiplayer rules: `(SceneState, SceneEvent) -> [SceneState, SceneEffect[]]`.
 *
 * Theory of operation. Godot 4's SceneMultiplayer (`modules/multiplayer/scene_multiplayer.cpp`,
 * read as `../shared/research/scenemultiplayer-wire.md` records it) puts a small protocol on a
 * MultiplayerPeer. Every rule of it lives here (rules 8 and 9, the path cache and RPCs, in
 * `reduce_rpc.ts`), one function per rule; the facade
 * (`multiplayer.ts`) only turns transport events into `SceneEvent`s and carries out the effects.
 *
 * 1. Admission. A transport peer starts pending when auth is enabled (`peer_authenticating`),
 *    else it is admitted at once. It is admitted only when BOTH our `completeAuth` (local) and its
 *    `07 00` (remote) happened; our `07 00` goes out before anything admission sends. A pending
 *    peer may only send `07 00 ...`; anything else is dropped (`not_admitted`). Pending peers
 *    older than `authTimeout` (> 0) are disconnected with `peer_authentication_failed` on
 *    `TimePassed`; the state exposes that deadline (`nextDeadline`).
 * 2. Admitting X: a relay server (id 1, relay on, server/client transport) sends `07 01 X` to every
 *    admitted peer and `07 01 P` for each of them to X, reliable on channel 0. Then X joins
 *    `connected`; `connected_to_server` when X is 1; `peer_connected(X)`.
 * 3. A transport peer lost: pending -> `peer_authentication_failed`; admitted -> a relay server
 *    sends `07 02 X` to the others first, the path caches forget X, `peer_disconnected(X)`.
 * 4. Packets from an id neither pending nor admitted are dropped (`unknown_peer`); a late `07 00`
 *    is ignored. ADD_PEER/DEL_PEER are accepted only by a relay client from peer 1 (and only for
 *    new / known ids other than 1 and ours).
 * 5. RELAY `07 03 <peer> <inner>`: a relay server forwards to `peer` (> 0, admitted; else
 *    `relay_target_gone`) or to all admitted but the sender and `-peer`, rewriting the header to the
 *    sender's id and keeping the packet's mode and channel; it also processes the inner packet
 *    itself, as from the sender, when `peer` is 0 or -X with X != 1. A relay client processes the
 *    inner packet as from the header's id. Ours: an inner SYS packet is refused, never forwarded.
 * 6. Sending (`send_command`): a relay client wraps every packet not addressed to exactly 1 in a
 *    RELAY to 1; otherwise a packet goes to the target, or to every admitted peer but `-target`.
 * 7. RAW -> `peer_packet`. SPAWN/DESPAWN/SYNC -> `ReplicationReceived`, undecoded.
 * 8. Path cache. We answer SIMPLIFY_PATH of a registered path with CONFIRM_PATH (valid = checksum
 *    match) and remember `(sender, id) -> path`. Our first RPC of a node to a peer sends our
 *    SIMPLIFY_PATH first; RPCs use the compact id once every target confirmed, else 32-bit ids
 *    to those that did and the full path to those that did not.
 * 9. RPCs in: node by path or by the sender's cache id, method by id, permission (ANY_PEER, or
 *    AUTHORITY from the node's authority), then arguments; each failure has its reason. RPCs out:
 *    to one peer, all, or all but one; `callLocal` methods also run here on `rpc()`.
 *
 * A refused packet changes nothing but the `rejected` counter of its reason and yields one
 * `Rejected` effect. A refused request returns the same state and one `Reply`.
 *
 * @module
 */
import { GodotError, type TransferMode } from "../core/constants.ts";
import {
  checkSend,
  isRelayClient,
  isRelayServer,
  reject,
  RELIABLE,
  reply,
  type SceneStep,
  send,
  sendCommand,
  withMap,
} from "./_rules.ts";
import { onConfirmPath, onRpc, onRpcPacket, onSimplifyPath } from "./reduce_rpc.ts";
import type { PendingPeer, SceneEffect, SceneEvent, SceneState, SentPath } from "./state.ts";
import { initialSceneState } from "./state.ts";
import {
  addPeerPacket,
  authConfirmPacket,
  authPacket,
  delPeerPacket,
  type Malformed,
  type Packet,
  parsePacket,
  rawPacket,
  relayPacket,
} from "./wire.ts";

export type { SceneStep } from "./_rules.ts";

/** When the facade must feed `TimePassed` next (the oldest pending peer's timeout), if ever. */
export function nextDeadline(s: SceneState): number | undefined {
  if (s.authTimeout <= 0 || s.pending.size === 0) return undefined;
  let oldest = Infinity;
  for (const p of s.pending.values()) oldest = Math.min(oldest, p.since);
  return oldest + s.authTimeout;
}

/** Rule 2. */
function admit(s: SceneState, peer: number): SceneStep {
  const effects: SceneEffect[] = [];
  if (isRelayServer(s)) {
    for (const p of s.connected) {
      effects.push(send(p, addPeerPacket(peer), RELIABLE, 0));
      effects.push(send(peer, addPeerPacket(p), RELIABLE, 0));
    }
  }
  const next: SceneState = {
    ...s,
    connected: [...s.connected, peer],
    recv: withMap(s.recv, peer, new Map()),
  };
  if (peer === 1) effects.push({ type: "Emit", signal: "connected_to_server", peer });
  effects.push({ type: "Emit", signal: "peer_connected", peer });
  return [next, effects];
}

/** Forgets an admitted peer (rule 3), announcing it when we relay; `emit` = peer_disconnected. */
function removeAdmitted(s: SceneState, peer: number, emit: boolean): SceneStep {
  const effects: SceneEffect[] = [];
  if (isRelayServer(s)) {
    for (const p of s.connected) {
      if (p !== peer) effects.push(send(p, delPeerPacket(peer), RELIABLE, 0));
    }
  }
  const sent = new Map<string, SentPath>();
  for (const [path, e] of s.sent) {
    sent.set(
      path,
      e.confirmed.has(peer) ? { ...e, confirmed: withMap(e.confirmed, peer, undefined) } : e,
    );
  }
  const next: SceneState = {
    ...s,
    connected: s.connected.filter((p) => p !== peer),
    recv: withMap(s.recv, peer, undefined),
    sent,
  };
  if (emit) effects.push({ type: "Emit", signal: "peer_disconnected", peer });
  return [next, effects];
}

function onPeerConnected(s: SceneState, peer: number, now: number): SceneStep {
  if (s.pending.has(peer) || s.connected.includes(peer)) return [s, []];
  if (!s.authEnabled) return admit(s, peer);
  const p: PendingPeer = { local: false, remote: false, since: now };
  return [
    { ...s, pending: withMap(s.pending, peer, p) },
    [{ type: "Emit", signal: "peer_authenticating", peer }],
  ];
}

function onPeerDisconnected(s: SceneState, peer: number): SceneStep {
  if (s.pending.has(peer)) {
    return [
      { ...s, pending: withMap(s.pending, peer, undefined) },
      [{ type: "Emit", signal: "peer_authentication_failed", peer }],
    ];
  }
  if (!s.connected.includes(peer)) return [s, []];
  return removeAdmitted(s, peer, true);
}

function onTimePassed(s: SceneState, now: number): SceneStep {
  if (s.authTimeout <= 0) return [s, []];
  const expired = [...s.pending].filter(([, p]) => p.since + s.authTimeout <= now).map(([id]) =>
    id
  );
  if (expired.length === 0) return [s, []];
  const pending = new Map(s.pending);
  const effects: SceneEffect[] = [];
  for (const id of expired) {
    pending.delete(id);
    effects.push({ type: "DisconnectTransportPeer", peer: id });
  }
  for (const id of expired) {
    effects.push({ type: "Emit", signal: "peer_authentication_failed", peer: id });
  }
  return [{ ...s, pending }, effects];
}

function onSendAuth(s: SceneState, peer: number, data: Uint8Array): SceneStep {
  if (s.uniqueId === 0) return reply(s, GodotError.ERR_UNCONFIGURED, "not connected");
  const p = s.pending.get(peer);
  if (!p) return reply(s, GodotError.ERR_INVALID_PARAMETER, `peer ${peer} is not authenticating`);
  if (!(data instanceof Uint8Array) || data.length === 0) {
    return reply(s, GodotError.ERR_INVALID_PARAMETER, "auth data must be non-empty bytes");
  }
  if (p.local) {
    return reply(s, GodotError.ERR_FILE_CANT_WRITE, "authentication already completed locally");
  }
  if (p.remote) {
    return reply(
      s,
      GodotError.ERR_FILE_CANT_WRITE,
      "the remote peer already completed authentication",
    );
  }
  return [s, [send(peer, authPacket(data), RELIABLE, 0)]];
}

function onCompleteAuth(s: SceneState, peer: number): SceneStep {
  const p = s.pending.get(peer);
  if (!p) return reply(s, GodotError.ERR_INVALID_PARAMETER, `peer ${peer} is not authenticating`);
  if (p.local) return reply(s, GodotError.ERR_FILE_CANT_WRITE, "authentication already completed");
  const confirm = send(peer, authConfirmPacket(), RELIABLE, 0);
  if (!p.remote) {
    return [{ ...s, pending: withMap(s.pending, peer, { ...p, local: true }) }, [confirm]];
  }
  const [next, effects] = admit({ ...s, pending: withMap(s.pending, peer, undefined) }, peer);
  return [next, [confirm, ...effects]];
}

function onDisconnectPeer(s: SceneState, peer: number): SceneStep {
  if (s.pending.has(peer)) {
    return [{ ...s, pending: withMap(s.pending, peer, undefined) }, [
      { type: "DisconnectTransportPeer", peer },
    ]];
  }
  if (!s.connected.includes(peer)) {
    return reply(s, GodotError.ERR_DOES_NOT_EXIST, `peer ${peer} is not connected`);
  }
  const [next, effects] = removeAdmitted(s, peer, false);
  return [next, [...effects, { type: "DisconnectTransportPeer", peer }]];
}
function onSendBytes(
  s: SceneState,
  data: Uint8Array,
  target: number,
  mode: TransferMode,
  channel: number,
): SceneStep {
  if (!(data instanceof Uint8Array) || data.length === 0) {
    return reply(s, GodotError.ERR_INVALID_DATA, "sendBytes needs non-empty bytes");
  }
  if (s.uniqueId === 0) return reply(s, GodotError.ERR_UNCONFIGURED, "not connected");
  const bad = checkSend(s, target, mode, channel);
  if (bad) return reply(s, GodotError.ERR_INVALID_PARAMETER, bad);
  return [s, sendCommand(s, target, rawPacket(data), mode, channel)];
}
/** Rules 4 and 5: a packet from an admitted transport peer. */
function onPacket(
  s: SceneState,
  from: number,
  data: Uint8Array,
  mode: TransferMode,
  channel: number,
): SceneStep {
  const pending = s.pending.get(from);
  if (pending) return onPendingPacket(s, from, pending, data);
  if (!s.connected.includes(from)) {
    return reject(s, from, "unknown_peer", `packet from unknown peer ${from}`);
  }
  const p = parsePacket(data);
  if (p.kind === "malformed") return reject(s, from, p.reason, p.detail);
  switch (p.kind) {
    case "auth_confirm":
      return [s, []]; // A late confirmation: we admitted it already.
    case "auth":
      return reject(s, from, "auth_confirm_bad_size", `auth data from admitted peer ${from}`);
    case "add_peer":
    case "del_peer":
      return onServerAnnounce(s, from, p);
    case "relay":
      return onRelay(s, from, p.peer, p.inner, mode, channel);
    default:
      return processPacket(s, from, p);
  }
}

function onPendingPacket(s: SceneState, from: number, p: PendingPeer, data: Uint8Array): SceneStep {
  const packet = parsePacket(data);
  if (packet.kind === "auth") return [s, [{ type: "AuthReceived", peer: from, data: packet.data }]];
  if (packet.kind !== "auth_confirm") {
    return reject(s, from, "not_admitted", `non-auth packet from authenticating peer ${from}`);
  }
  if (!p.local) return [{ ...s, pending: withMap(s.pending, from, { ...p, remote: true }) }, []];
  return admit({ ...s, pending: withMap(s.pending, from, undefined) }, from);
}

function onServerAnnounce(
  s: SceneState,
  from: number,
  p: { readonly kind: "add_peer" | "del_peer"; readonly peer: number },
): SceneStep {
  if (!isRelayClient(s) || from !== 1) {
    return reject(s, from, "sys_not_from_server", `${p.kind} from ${from}, we are ${s.uniqueId}`);
  }
  if (p.peer <= 1 || p.peer === s.uniqueId) {
    return reject(s, from, "sys_invalid_peer_id", `${p.kind} of id ${p.peer}`);
  }
  const known = s.connected.includes(p.peer);
  if (p.kind === "add_peer") {
    return known
      ? reject(s, from, "add_peer_duplicate", `peer ${p.peer} announced twice`)
      : admit(s, p.peer);
  }
  return known
    ? removeAdmitted(s, p.peer, true)
    : reject(s, from, "del_peer_unknown", `unknown peer ${p.peer} left`);
}

function onRelay(
  s: SceneState,
  from: number,
  peer: number,
  inner: Uint8Array,
  mode: TransferMode,
  channel: number,
): SceneStep {
  if (!s.serverRelay || !s.relaySupported) {
    return reject(s, from, "relay_not_supported", "RELAY while relay is off or unsupported");
  }
  if ((inner[0] & 7) === 7) return reject(s, from, "relay_inner_sys", "a SYS packet inside RELAY");
  if (s.uniqueId !== 1) {
    if (from !== 1) return reject(s, from, "sys_not_from_server", `RELAY from ${from}`);
    const inn = parsePacket(inner);
    if (inn.kind === "malformed") return reject(s, peer, inn.reason, inn.detail);
    return processPacket(s, peer, inn);
  }
  if (peer > 0 && !s.connected.includes(peer)) {
    return reject(s, from, "relay_target_gone", `RELAY to ${peer}, not connected`);
  }
  // Validate what we would process ourselves before forwarding anything.
  const local = peer === 0 || (peer < 0 && peer !== -1);
  let parsed: Packet | Malformed | undefined;
  if (local) {
    parsed = parsePacket(inner);
    if (parsed.kind === "malformed") return reject(s, from, parsed.reason, parsed.detail);
  }
  const out = relayPacket(from, inner);
  const effects: SceneEffect[] = peer > 0
    ? [send(peer, out, mode, channel)]
    : s.connected.filter((p) => p !== from && p !== -peer).map((p) => send(p, out, mode, channel));
  if (!parsed) return [s, effects];
  const [next, more] = processPacket(s, from, parsed as Packet);
  return [next, [...effects, ...more]];
}

/** Rules 7-9: a non-SYS packet, from `from` (the relayed source for a relayed one). */
function processPacket(s: SceneState, from: number, p: Packet): SceneStep {
  switch (p.kind) {
    case "raw":
      return [s, [{ type: "PeerPacket", from, data: p.data }]];
    case "replication":
      return [s, [{ type: "ReplicationReceived", from, command: p.command, data: p.data }]];
    case "simplify_path":
      return onSimplifyPath(s, from, p.md5, p.cacheId, p.path);
    case "confirm_path":
      return onConfirmPath(s, from, p.valid, p.cacheId);
    case "rpc":
      return onRpcPacket(s, from, p);
    default:
      return reject(s, from, "relay_inner_sys", `${p.kind} inside RELAY`);
  }
}
/** The SceneMultiplayer reducer. */
export function reduceScene(s: SceneState, e: SceneEvent): SceneStep {
  switch (e.type) {
    case "TransportConnected":
      return [{ ...s, uniqueId: e.uniqueId, relaySupported: e.relaySupported }, []];
    case "TransportClosed":
      return [{
        ...initialSceneState,
        serverRelay: s.serverRelay,
        authEnabled: s.authEnabled,
        authTimeout: s.authTimeout,
        nodes: s.nodes,
        rejected: s.rejected,
      }, []];
    case "OptionsSet": {
      if (
        e.authTimeout !== undefined && (!(e.authTimeout >= 0) || !Number.isFinite(e.authTimeout))
      ) {
        return reply(s, GodotError.ERR_INVALID_PARAMETER, `bad auth timeout ${e.authTimeout}`);
      }
      return [{
        ...s,
        serverRelay: e.serverRelay ?? s.serverRelay,
        authEnabled: e.authEnabled ?? s.authEnabled,
        authTimeout: e.authTimeout ?? s.authTimeout,
      }, []];
    }
    case "NodeRegistered":
      return [{ ...s, nodes: withMap(s.nodes, e.node.path, e.node) }, []];
    case "PeerConnected":
      return onPeerConnected(s, e.peer, e.now);
    case "PeerDisconnected":
      return onPeerDisconnected(s, e.peer);
    case "PacketReceived":
      return onPacket(s, e.from, e.data, e.mode, e.channel);
    case "TimePassed":
      return onTimePassed(s, e.now);
    case "SendAuthRequested":
      return onSendAuth(s, e.peer, e.data);
    case "CompleteAuthRequested":
      return onCompleteAuth(s, e.peer);
    case "DisconnectPeerRequested":
      return onDisconnectPeer(s, e.peer);
    case "SendBytesRequested":
      return onSendBytes(s, e.data, e.target, e.mode, e.channel);
    case "RpcRequested":
      return onRpc(s, e.path, e.method, e.args, e.target);
  }
}

/**
 * The signaling server's rules as a pure reducer: `(state, event, env) -> [state, effects]`.
 *
 * Theory of operation. Connections are named by a number the transport picks. Time comes in
 * the events (`now`, milliseconds), randomness from `env`. The reducer never waits: timeouts are
 * deadlines in the state ({@link nextDeadline}); the driver sends a `Tick` when one is due.
 *
 * Two protocols, one set of rules. A connection's first frame fixes its protocol for good
 * (`codec.ts`: `{` starts Godot 4's JSON, anything else is Godot 3's text); every frame is decoded
 * with its sender's codec and encoded with its receiver's, so the rules below only see neutral
 * messages and a Godot 3 and a Godot 4 client can share a mesh lobby. Below, `J:`, `I:`, `N:`... stand
 * for either protocol's form (JOIN, ID, PEER_CONNECT...).
 *
 * - `Opened`: refused with 4000 "Too many peers connected" when `maxPeers` connections are open.
 *   Otherwise the connection must send `J:` before `joinTimeoutMs` passes.
 * - `Text`: frames over `maxFrameBytes`, frames beyond the rate limit (a token bucket of
 *   `rateLimit.messages` per `rateLimit.intervalMs` for each peer the sender signals: in a mesh
 *   lobby every other member, for the host of a client/server lobby every client, else one; a
 *   server of 128 clients answers all of them at once), unparsable frames and every rule below
 *   close the sender with 4000 and a reason; nobody else is affected.
 * - `J: ` (empty): a new lobby (at most `maxLobbies`), the sender is its host with id 1. A Godot 4
 *   JOIN with id 1 makes it a client/server lobby, else it is a mesh lobby.
 *   `J: name`: the lobby must exist, not be sealed and not be full; a Godot 3 client may not join
 *   a client/server lobby nor one whose host speaks Godot 4. The member gets a random id never
 *   used before in that lobby, in 2..2^30-1 (Godot 3) or 2^30..2^31-1 (Godot 4): see
 *   {@link memberIdRange}. The joiner gets `I: id`, then `N:` for every member (and every member
 *   gets `N: id`), then `J: name`; in a client/server lobby only the host and the joiner are
 *   announced to each other.
 * - `S: `: host only; every member gets `S: `; after `sealTimeoutMs` all members are closed with
 *   1000 "Seal complete" and the lobby is gone. Sealing again changes nothing.
 * - `O:`/`A:`/`C: dest`: `dest` (1 = host) must be another member of the sender's lobby; it gets
 *   the frame with the sender's id in place of `dest`, payload unchanged. A `dest` that was a
 *   member of the lobby and left is dropped silently (the sender had not seen its `D:` yet); any
 *   other `dest` closes the sender, and so does a client/server member's relay to anyone but the
 *   host. An offer from a Godot 4 member to a Godot 3 member is dropped (mixed pairs: the Godot 3
 *   side offers, see {@link memberIdRange}).
 * - A member leaving (closed by the transport or by a rule): every remaining member (in a
 *   client/server lobby: the host) gets `D: id`;
 *   if it was the host, every member is closed with 4000 "Room host has disconnected" instead and
 *   the lobby is deleted.
 * - `Binary`: 4000 "Invalid transfer mode, must be text". `Shutdown`: everyone gets 1001.
 *
 * Effects for connections the reducer has already closed are never produced, and events about
 * unknown connections change nothing (they are late events of a closed connection).
 *
 * Cost. A relayed frame is the common case, with a fast path of its own (`_relay_step.ts`), and
 * its step touches only what it must: the state's maps are persistent (`_pmap.ts`), so the
 * sender's rate-limit tokens change in O(log n) without a copy of the other connections, and the
 * lobby is read, not copied. Deadlines are kept in two
 * queues in the order they were set (connections waiting for `J:`, sealed lobbies), so
 * {@link nextDeadline} reads the front of each instead of scanning every connection; entries that
 * no longer apply (the connection joined or left) are dropped from the front after each step.
 * Time in events never goes backwards (a driver reads a monotonic clock). A join costs O(1)
 * whatever the lobby's history: member ids follow a keyed permutation of each protocol's range
 * (`_ids.ts`), so the lobby keeps a key and two counts instead of every id it ever handed out.
 *
 * @module
 */
import {
  CLOSE_GOING_AWAY,
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
  HOST_ID,
  type Reason,
  Reasons,
} from "./protocol.ts";
import { PersistentMap, persistentOf, PersistentQueue } from "./_pmap.ts";
import { counterparts, relayStep, tokensAt } from "./_relay_step.ts";

export { relay, type Relayed } from "./_relay_step.ts";
import { randomLobbyName } from "./_random.ts";
import {
  GODOT4_FIRST_ID,
  type IdKey,
  memberIdRange,
  type MemberIds,
  permutedMemberIds,
} from "./_ids.ts";
export { GODOT4_FIRST_ID, type IdKey, memberIdRange, type MemberIds, permutedMemberIds };

export { randomLobbyName };
import type {
  Connection,
  DeadlineQueue,
  Lobby,
  Pending,
  ServerEffect,
  ServerEnv,
  ServerEvent,
  ServerLimits,
  ServerState,
  ServerStep,
} from "./_lobby_types.ts";
export {
  type Connection,
  type DeadlineQueue,
  DEFAULT_LIMITS,
  defaultEnv,
  emptyServer,
  type Lobby,
  type Pending,
  type ServerEffect,
  type ServerEnv,
  type ServerEvent,
  type ServerLimits,
  type ServerState,
  type ServerStep,
} from "./_lobby_types.ts";
import {
  decodeClient,
  detectProtocol,
  encodeServer,
  type OutgoingMessage,
  type Protocol,
} from "./codec.ts";

/**
 * The earliest time (ms) at which a `Tick` has something to do, or undefined.
 *
 * @example
 * ```ts
 * import { defaultEnv, emptyServer, nextDeadline, reduceServer } from "./lobby.ts";
 * const env = defaultEnv();
 * const [s] = reduceServer(emptyServer, { type: "Opened", key: 1, now: 0 }, env);
 * console.log(nextDeadline(s, env.limits)); // 1000
 * ```
 */
export function nextDeadline(state: ServerState, limits: ServerLimits): number | undefined {
  const join = state.waiting.first();
  const seal = state.sealing.first();
  const joinAt = join === undefined ? Infinity : join.at + limits.joinTimeoutMs;
  const sealAt = seal === undefined ? Infinity : seal.at + limits.sealTimeoutMs;
  const next = Math.min(joinAt, sealAt);
  return next === Infinity ? undefined : next;
}

/** Whether a connection still waits for its `J:` since `entry.at`. */
function stillWaiting(connections: ReadonlyMap<number, Connection>, entry: Pending<number>) {
  const c = connections.get(entry.of);
  return c !== undefined && c.lobby === "" && c.openedAt === entry.at;
}

/** Whether a lobby is still sealed since `entry.at`. */
function stillSealed(lobbies: ReadonlyMap<string, Lobby>, entry: Pending<string>) {
  return lobbies.get(entry.of)?.sealedAt === entry.at;
}

function queue<T>(q: DeadlineQueue<T>): PersistentQueue<Pending<T>> {
  if (q instanceof PersistentQueue) return q;
  let out = PersistentQueue.empty<Pending<T>>();
  for (const entry of q) out = out.push(entry);
  return out;
}

/** A working view of the state for one reduction: its changes make new persistent maps. */
class Draft {
  connections: PersistentMap<number, Connection>;
  lobbies: PersistentMap<string, Lobby>;
  waiting: PersistentQueue<Pending<number>>;
  sealing: PersistentQueue<Pending<string>>;
  readonly effects: ServerEffect[] = [];
  constructor(state: ServerState) {
    this.connections = persistentOf(state.connections);
    this.lobbies = persistentOf(state.lobbies);
    this.waiting = queue(state.waiting);
    this.sealing = queue(state.sealing);
  }
  done(): ServerStep {
    // Entries that no longer apply leave the front, so the front is the next deadline.
    let w = this.waiting.first();
    while (w !== undefined && !stillWaiting(this.connections, w)) {
      this.waiting = this.waiting.shift();
      w = this.waiting.first();
    }
    let l = this.sealing.first();
    while (l !== undefined && !stillSealed(this.lobbies, l)) {
      this.sealing = this.sealing.shift();
      l = this.sealing.first();
    }
    return [{
      connections: this.connections,
      lobbies: this.lobbies,
      waiting: this.waiting,
      sealing: this.sealing,
    }, this.effects];
  }
  /** Sends a message in the receiver's protocol. */
  send(key: number, message: OutgoingMessage): void {
    const protocol = this.connections.get(key)?.protocol;
    if (protocol === undefined) return;
    this.effects.push({ type: "Send", key, text: encodeServer(protocol, message) });
  }
  log(message: string): void {
    this.effects.push({ type: "Log", message });
  }
  /** Closes connections whose lobby is gone, without the leaving rules (nobody is left to tell). */
  dismiss(keys: Iterable<number>, code: number, reason: Reason): void {
    for (const key of keys) {
      this.effects.push({ type: "Close", key, code, reason });
      this.connections = this.connections.without(key);
    }
  }
  /** Closes a connection we decided to close and applies its leaving. */
  close(key: number, code: number, reason: Reason): void {
    if (!this.connections.has(key)) return;
    this.effects.push({ type: "Close", key, code, reason });
    this.leave(key);
  }
  /** Forgets a connection and applies the lobby rules of its leaving. */
  leave(key: number): void {
    const conn = this.connections.get(key);
    if (!conn) return;
    this.connections = this.connections.without(key);
    const lobby = conn.lobby === "" ? undefined : this.lobbies.get(conn.lobby);
    if (!lobby) return;
    const members = lobby.members.filter((k) => k !== key);
    if (conn.id === HOST_ID) {
      this.lobbies = this.lobbies.without(lobby.name);
      this.log(`Host left lobby ${lobby.name}: closing ${members.length} member(s)`);
      this.dismiss(members, CLOSE_PROTOCOL_ERROR, Reasons.HOST_DISCONNECTED);
      return;
    }
    const keyById = new Map(lobby.keyById);
    keyById.delete(conn.id);
    this.lobbies = this.lobbies.with(lobby.name, { ...lobby, members, keyById });
    // A client/server lobby announced a member to its host alone.
    const told = lobby.mesh ? members : members.slice(0, 1);
    for (const k of told) this.send(k, { type: "peer_disconnected", id: conn.id });
  }
}

/**
 * The server reducer. See the module documentation for the rules.
 *
 * @example
 * ```ts
 * import { defaultEnv, emptyServer, reduceServer } from "./lobby.ts";
 * const env = { ...defaultEnv(), randomLobbyName: () => "lobby" };
 * let [s] = reduceServer(emptyServer, { type: "Opened", key: 7, now: 0 }, env);
 * const [, effects] = reduceServer(s, { type: "Text", key: 7, text: "J: \n", bytes: 4, now: 1 }, env);
 * console.log(effects.filter((e) => e.type === "Send").map((e) => e.type === "Send" && e.text));
 * // [ "I: 1\n", "J: lobby\n" ]
 * ```
 */
export function reduceServer(state: ServerState, event: ServerEvent, env: ServerEnv): ServerStep {
  if (event.type === "Text") {
    const relayed = relayStep(state, event.key, event.text, event.bytes, event.now, env.limits);
    if (relayed !== undefined) return relayed;
  }
  return reduceServerRules(state, event, env);
}

/**
 * The server's rules without the relay fast path of {@link reduceServer}: same results, every
 * event through the general cases. The reference the fast path is tested against.
 */
export function reduceServerRules(
  state: ServerState,
  event: ServerEvent,
  env: ServerEnv,
): ServerStep {
  const { limits } = env;
  if (
    (event.type === "Text" || event.type === "Binary" || event.type === "Closed") &&
    !state.connections.has(event.key)
  ) {
    // A late event of a connection that is gone: nothing to do, and no copy of the state.
    return [state, []];
  }
  const d = new Draft(state);
  switch (event.type) {
    case "Opened": {
      if (d.connections.has(event.key)) break;
      if (d.connections.size >= limits.maxPeers) {
        d.effects.push({
          type: "Close",
          key: event.key,
          code: CLOSE_PROTOCOL_ERROR,
          reason: Reasons.TOO_MANY_PEERS,
        });
        break;
      }
      d.connections = d.connections.with(event.key, {
        key: event.key,
        openedAt: event.now,
        lobby: "",
        id: 0,
        protocol: undefined,
        tokens: limits.rateLimit.messages,
        refilledAt: event.now,
      });
      d.waiting = d.waiting.push({ of: event.key, at: event.now });
      break;
    }
    case "Closed":
      d.leave(event.key);
      break;
    case "Binary":
      d.close(event.key, CLOSE_PROTOCOL_ERROR, Reasons.INVALID_TRANSFER_MODE);
      break;
    case "Text":
      onText(d, event.key, event.text, event.bytes, event.now, env);
      break;
    case "Tick": {
      // Both queues are in deadline order: take due entries from the front.
      for (let w = d.waiting.first(); w !== undefined; w = d.waiting.first()) {
        if (stillWaiting(d.connections, w)) {
          if (event.now < w.at + limits.joinTimeoutMs) break;
          d.close(w.of, CLOSE_PROTOCOL_ERROR, Reasons.NO_LOBBY);
        }
        d.waiting = d.waiting.shift();
      }
      for (let s = d.sealing.first(); s !== undefined; s = d.sealing.first()) {
        const l = d.lobbies.get(s.of);
        if (l !== undefined && l.sealedAt === s.at) {
          if (event.now < s.at + limits.sealTimeoutMs) break;
          d.lobbies = d.lobbies.without(l.name);
          d.log(`Sealed lobby ${l.name} closed`);
          d.dismiss(l.members, CLOSE_NORMAL, Reasons.SEAL_COMPLETE);
        }
        d.sealing = d.sealing.shift();
      }
      break;
    }
    case "Shutdown":
      // In the order the connections opened (keys are handed out in that order).
      d.dismiss(
        [...d.connections.keys()].sort((a, b) => a - b),
        CLOSE_GOING_AWAY,
        Reasons.SERVER_SHUTDOWN,
      );
      d.lobbies = PersistentMap.empty();
      break;
  }
  return d.done();
}

function onText(
  d: Draft,
  key: number,
  text: string,
  bytes: number,
  now: number,
  env: ServerEnv,
): void {
  const { limits } = env;
  const before = d.connections.get(key);
  if (!before) return;
  if (bytes > limits.maxFrameBytes) {
    return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.MESSAGE_TOO_BIG);
  }
  const inLobby = before.lobby === "" ? undefined : d.lobbies.get(before.lobby);
  const tokens = tokensAt(before, now, limits, counterparts(before, inLobby));
  if (tokens < 1) {
    return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.TOO_MANY_MESSAGES);
  }
  // The first frame fixes the connection's protocol for good.
  const conn: Connection = {
    key,
    openedAt: before.openedAt,
    lobby: before.lobby,
    id: before.id,
    protocol: before.protocol ?? detectProtocol(text),
    tokens: tokens - 1,
    refilledAt: now,
  };
  d.connections = d.connections.with(key, conn);
  const parsed = decodeClient(conn.protocol!, text);
  if (!parsed.ok) return d.close(key, CLOSE_PROTOCOL_ERROR, parsed.error as Reason);
  const msg = parsed.value;
  if (msg.type === "join") return join(d, key, msg.lobby, msg.mesh ?? true, env);
  const lobby = conn.lobby === "" ? undefined : d.lobbies.get(conn.lobby);
  if (!lobby) return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.NEED_LOBBY);
  if (msg.type === "seal") {
    if (conn.id !== HOST_ID) return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.ONLY_HOST_CAN_SEAL);
    if (lobby.sealedAt !== undefined) return;
    d.lobbies = d.lobbies.with(lobby.name, { ...lobby, sealedAt: now });
    d.sealing = d.sealing.push({ of: lobby.name, at: now });
    d.log(`Lobby ${lobby.name} sealed with ${lobby.members.length} member(s)`);
    for (const k of lobby.members) d.send(k, { type: "sealed" });
    return;
  }
  const destKey = lobby.keyById.get(msg.dest);
  if (destKey === undefined && msg.dest !== conn.id && handedOut(lobby, msg.dest, env.memberIds)) {
    // A member that left: the sender has not seen its `D:` yet (or a candidate was in flight).
    // Nobody to deliver to, and no fault of the sender's: the frame is dropped.
    return;
  }
  if (
    destKey === undefined || destKey === key ||
    // In a client/server lobby clients talk to the host alone.
    (!lobby.mesh && conn.id !== HOST_ID && msg.dest !== HOST_ID)
  ) {
    return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.INVALID_DEST);
  }
  const dest = d.connections.get(destKey)!;
  if (msg.command === "O" && conn.protocol === "godot4" && dest.protocol === "godot3") {
    // A mixed pair: both sides offer (see memberIdRange); the Godot 3 side's offer is the one
    // that counts, and the Godot 4 side answers it.
    d.log(`Offer ${conn.id} -> ${dest.id} dropped: the Godot 3 side offers in a mixed pair`);
    return;
  }
  d.send(destKey, { type: "relay", command: msg.command, from: conn.id, payload: msg.payload });
}

/** Whether `id` was ever handed out in `lobby` (the host's 1 included). */
function handedOut(lobby: Lobby, id: number, ids: MemberIds): boolean {
  if (id === HOST_ID) return true;
  const protocol: Protocol = id >= GODOT4_FIRST_ID ? "godot4" : "godot3";
  const [low, high] = memberIdRange(protocol);
  if (!Number.isInteger(id) || id < low || id > high) return false;
  return ids.indexOf(lobby.idKey, protocol, id) < lobby.handedOut[protocol];
}

function join(d: Draft, key: number, name: string, mesh: boolean, env: ServerEnv): void {
  const { limits } = env;
  const conn = d.connections.get(key)!;
  const protocol = conn.protocol ?? "godot3";
  if (conn.lobby !== "") return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.ALREADY_IN_LOBBY);
  let lobby: Lobby | undefined;
  let id: number;
  if (name === "") {
    if (d.lobbies.size >= limits.maxLobbies) {
      return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.TOO_MANY_LOBBIES);
    }
    let fresh = env.randomLobbyName();
    for (let i = 0; d.lobbies.has(fresh) && i < 100; i++) fresh = env.randomLobbyName();
    if (d.lobbies.has(fresh)) return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.TOO_MANY_LOBBIES);
    lobby = {
      name: fresh,
      members: [],
      keyById: new Map(),
      mesh,
      idKey: env.memberIds.newKey(),
      handedOut: { godot3: 0, godot4: 0 },
      sealedAt: undefined,
    };
    id = HOST_ID;
    d.log(`Lobby ${fresh} created (${d.lobbies.size + 1} open)`);
  } else {
    lobby = d.lobbies.get(name);
    if (!lobby) return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.LOBBY_DOES_NOT_EXISTS);
    if (lobby.sealedAt !== undefined) {
      return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.LOBBY_IS_SEALED);
    }
    if (protocol === "godot3" && !lobby.mesh) {
      return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.CLIENT_SERVER_NEEDS_GODOT4);
    }
    if (protocol === "godot3" && d.connections.get(lobby.members[0])?.protocol === "godot4") {
      return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.GODOT4_HOST_NEEDS_GODOT4);
    }
    if (lobby.members.length >= limits.maxLobbyPeers) {
      return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.LOBBY_FULL);
    }
    const [low, high] = memberIdRange(protocol);
    const k = lobby.handedOut[protocol];
    // Every id of the range handed out (2^30 joins): the lobby can take nobody of this protocol.
    if (k > high - low) return d.close(key, CLOSE_PROTOCOL_ERROR, Reasons.LOBBY_FULL);
    id = env.memberIds.nth(lobby.idKey, protocol, k);
    lobby = { ...lobby, handedOut: { ...lobby.handedOut, [protocol]: k + 1 } };
  }
  d.connections = d.connections.with(key, { ...d.connections.get(key)!, lobby: lobby.name, id });
  d.send(key, { type: "id", id, mesh: lobby.mesh });
  // Client/server: the newcomer and the host (the first member) are announced to each other only.
  for (const k of lobby.mesh ? lobby.members : lobby.members.slice(0, 1)) {
    d.send(k, { type: "peer_connected", id });
    d.send(key, { type: "peer_connected", id: d.connections.get(k)!.id });
  }
  const keyById = new Map(lobby.keyById).set(id, key);
  d.lobbies = d.lobbies.with(lobby.name, {
    ...lobby,
    members: [...lobby.members, key],
    keyById,
  });
  d.send(key, { type: "joined", lobby: lobby.name });
  d.log(`Peer ${id} joined lobby ${lobby.name} (${lobby.members.length + 1} member(s))`);
}

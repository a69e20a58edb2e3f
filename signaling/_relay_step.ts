/**
 * The relay fast path of the lobby rules (`lobby.ts`): a member's well-formed relay to another
 * member of its lobby, the common case, in one step that reads the sender, its lobby and the
 * receiver, changes only the sender's rate-limit tokens and builds one `Send`; and the rate limit
 * both paths share. Pure, like the rest of the rules.
 *
 * @module
 */
import { MAX_PEER_ID } from "../core/constants.ts";
import { HOST_ID, type RelayCommand } from "./protocol.ts";
import { persistentOf } from "./_pmap.ts";
import { decodeClient, encodeServer } from "./codec.ts";
import type { Connection, Lobby, ServerLimits, ServerState, ServerStep } from "./_lobby_types.ts";

/**
 * How many peers a connection signals, which scales its rate limit: every other member of a mesh
 * lobby; every client for the host of a client/server lobby; one otherwise.
 */
export function counterparts(conn: Connection, lobby: Lobby | undefined): number {
  if (lobby === undefined || (!lobby.mesh && conn.id !== HOST_ID)) return 1;
  return Math.max(1, lobby.members.length - 1);
}

/**
 * The connection's rate-limit tokens at `now` (its bucket refilled since `refilledAt`), for a
 * connection that signals `peers` peers.
 */
export function tokensAt(
  conn: Connection,
  now: number,
  limits: ServerLimits,
  peers: number,
): number {
  const { messages, intervalMs } = limits.rateLimit;
  const rate = messages * peers;
  const elapsed = Math.max(0, now - conn.refilledAt);
  return Math.min(rate, conn.tokens + (elapsed * rate) / intervalMs);
}

/**
 * A relay admitted by {@link relay}: the new state and the one frame to send, as one plain object
 * (the `[state, [Send]]` of a step is three more objects per relayed frame).
 */
export interface Relayed {
  /** The state after the relay: only the sender's rate-limit tokens changed. */
  readonly state: ServerState;
  /** The receiver's connection key. */
  readonly key: number;
  /** The frame, in the receiver's protocol. */
  readonly text: string;
}

/**
 * {@link relay} as a step of the rules: `[state, [Send]]`, or undefined when the general rules
 * must decide.
 */
export function relayStep(
  state: ServerState,
  key: number,
  text: string,
  bytes: number,
  now: number,
  limits: ServerLimits,
): ServerStep | undefined {
  const r = relay(state, key, text, bytes, now, limits);
  return r === undefined ? undefined : [r.state, [{ type: "Send", key: r.key, text: r.text }]];
}

/**
 * The fast path of the common case: a member's well-formed relay to another member of its lobby,
 * within every limit, as the new state and the frame to send ({@link relayStep} makes it a step of
 * the rules). It applies the same rules as `reduceServerRules` (`lobby.ts`) (the frame size, the
 * rate limit, the protocol, the destination), changes nothing but the sender's tokens and builds
 * one frame; any other case (an error, a drop, a first frame, a Godot 3 command line with spaces
 * around its id...) returns undefined and takes the general rules. A test checks that both agree.
 */
export function relay(
  state: ServerState,
  key: number,
  text: string,
  bytes: number,
  now: number,
  limits: ServerLimits,
): Relayed | undefined {
  const conn = state.connections.get(key);
  if (conn === undefined || conn.lobby === "" || bytes > limits.maxFrameBytes) return undefined;
  const lobby = state.lobbies.get(conn.lobby);
  const tokens = tokensAt(conn, now, limits, counterparts(conn, lobby));
  if (tokens < 1) return undefined;
  let command: RelayCommand;
  let dest: number;
  let payload: string | undefined;
  /** Godot 3: where the payload's line starts (its `\n`), else -1. */
  let sep = -1;
  if (conn.protocol === "godot3") {
    // `X: <digits>\n<payload>`, the id written plainly (no spaces, no leading zero): else the
    // general parser decides.
    const c = text.charCodeAt(0);
    if ((c !== 67 && c !== 79 && c !== 65) || text.charCodeAt(1) !== 58) return undefined;
    if (text.charCodeAt(2) !== 32) return undefined;
    sep = text.indexOf("\n", 3);
    if (sep < 4 || sep > 13 || text.charCodeAt(3) === 48) return undefined;
    dest = 0;
    for (let i = 3; i < sep; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return undefined;
      dest = dest * 10 + digit;
    }
    if (dest > MAX_PEER_ID) return undefined;
    command = c === 67 ? "C" : c === 79 ? "O" : "A";
  } else {
    const parsed = conn.protocol === "godot4" ? decodeClient("godot4", text) : undefined;
    if (parsed === undefined || !parsed.ok || parsed.value.type !== "relay") return undefined;
    ({ command, dest, payload } = parsed.value);
  }
  const destKey = lobby?.keyById.get(dest);
  if (lobby === undefined || destKey === undefined || destKey === key) return undefined;
  if (!lobby.mesh && conn.id !== HOST_ID && dest !== HOST_ID) return undefined;
  const to = state.connections.get(destKey);
  if (to === undefined || to.protocol === undefined) return undefined;
  if (command === "O" && conn.protocol === "godot4" && to.protocol === "godot3") return undefined;
  const sender: Connection = {
    key,
    openedAt: conn.openedAt,
    lobby: conn.lobby,
    id: conn.id,
    protocol: conn.protocol,
    tokens: tokens - 1,
    refilledAt: now,
  };
  const connections = persistentOf(state.connections).with(key, sender);
  // Godot 3 to Godot 3: the frame with the sender's id in place of the destination's, as
  // `encodeServer` would write it, without taking the payload out first.
  const text2 = to.protocol === "godot3" && sep >= 0
    ? `${command}: ${conn.id}${text.slice(sep)}`
    : encodeServer(to.protocol, {
      type: "relay",
      command,
      from: conn.id,
      payload: payload ?? text.slice(sep + 1),
    });
  return {
    state: { connections, lobbies: state.lobbies, waiting: state.waiting, sealing: state.sealing },
    key: destKey,
    text: text2,
  };
}

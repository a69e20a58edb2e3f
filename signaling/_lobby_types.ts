/**
 * The vocabulary of the signaling server's rules (`lobby.ts`): its limits and their defaults, the
 * state (connections, lobbies, the two deadline queues), the events it accepts, the effects it
 * returns, and its environment (randomness and configuration).
 *
 * @module
 */
import { PersistentMap, PersistentQueue } from "./_pmap.ts";
import { randomLobbyName } from "./_random.ts";
import { type IdKey, type MemberIds, permutedMemberIds } from "./_ids.ts";
import type { Protocol } from "./codec.ts";

/** The server's limits. Every field has a default in {@link DEFAULT_LIMITS}. */
export interface ServerLimits {
  /** Open connections at once (joined or not). Demo: 4096. */
  readonly maxPeers: number;
  /** Lobbies at once. Demo: 1024. */
  readonly maxLobbies: number;
  /** Members of one lobby (ours; the demo has no such limit). */
  readonly maxLobbyPeers: number;
  /** Largest accepted frame in bytes (UTF-8 length of a text frame). */
  readonly maxFrameBytes: number;
  /** Time a connection has to send `J:`, ms. Demo: 1000. */
  readonly joinTimeoutMs: number;
  /** Time after a seal before the lobby is closed, ms. Demo: 10000. */
  readonly sealTimeoutMs: number;
  /** Per-connection token bucket: at most `messages` frames per `intervalMs` (burst `messages`). */
  readonly rateLimit: { readonly messages: number; readonly intervalMs: number };
}

/**
 * Default limits: the Godot demo's values where it has them; frames of 64 KiB or more are
 * refused; 200 frames per second per connection.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS } from "./lobby.ts";
 * console.log(DEFAULT_LIMITS.maxFrameBytes); // 65535
 * ```
 */
export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  maxPeers: 4096,
  maxLobbies: 1024,
  maxLobbyPeers: 256,
  maxFrameBytes: 65535,
  joinTimeoutMs: 1000,
  sealTimeoutMs: 10000,
  rateLimit: Object.freeze({ messages: 200, intervalMs: 1000 }),
});

/** One open connection. */
export interface Connection {
  /** The transport's name for it. */
  readonly key: number;
  /** When it opened (ms). */
  readonly openedAt: number;
  /** The lobby it joined; `""` until then. */
  readonly lobby: string;
  /** Its id in the lobby (1 for the host); 0 until it joined. */
  readonly id: number;
  /** The protocol of its first frame, which all its frames must follow; undefined until then. */
  readonly protocol: Protocol | undefined;
  /** Rate-limit tokens left. */
  readonly tokens: number;
  /** When the tokens were last refilled (ms). */
  readonly refilledAt: number;
}

/** One lobby. */
export interface Lobby {
  /** The lobby's name. */
  readonly name: string;
  /** Member connection keys in join order; the host is the first while it lives. */
  readonly members: readonly number[];
  /** Member connection keys by their id in the lobby. */
  readonly keyById: ReadonlyMap<number, number>;
  /**
   * A mesh lobby (every member connects to every member) or a client/server one (Godot 4 only:
   * members connect to the host alone, and only host and newcomer are announced to each other).
   */
  readonly mesh: boolean;
  /**
   * The key of the lobby's id permutations ({@link MemberIds}), drawn when it was created.
   */
  readonly idKey: IdKey;
  /**
   * How many ids of each protocol's range were handed out: the next member of that range gets
   * the permutation's value at this index. With the key, this tells every id ever handed out in
   * the lobby (never reused while it lives) in O(1) memory.
   */
  readonly handedOut: Readonly<Record<Protocol, number>>;
  /** When it was sealed (ms), or undefined. */
  readonly sealedAt: number | undefined;
}

/** A deadline set at `at` for a connection (its `J:`) or a lobby (its seal). */
export interface Pending<T> {
  /** The connection key or the lobby name. */
  readonly of: T;
  /** When it was set (`openedAt`, `sealedAt`), ms. */
  readonly at: number;
}

/** A first-in first-out queue, read from the front. */
export interface DeadlineQueue<T> extends Iterable<Pending<T>> {
  /** The oldest entry, or undefined. */
  first(): Pending<T> | undefined;
  /** Number of entries. */
  readonly size: number;
}

/** The whole server. */
export interface ServerState {
  /** Open connections by key. */
  readonly connections: ReadonlyMap<number, Connection>;
  /** Lobbies by name. */
  readonly lobbies: ReadonlyMap<string, Lobby>;
  /**
   * Connections that had not joined a lobby when last seen, oldest first; the front entry still
   * waits (entries of connections that joined or left since are dropped when they reach it).
   */
  readonly waiting: DeadlineQueue<number>;
  /** Sealed lobbies, oldest seal first (same rule for the front entry). */
  readonly sealing: DeadlineQueue<string>;
}

/** An empty server. */
export const emptyServer: ServerState = Object.freeze({
  connections: PersistentMap.empty<number, Connection>(),
  lobbies: PersistentMap.empty<string, Lobby>(),
  waiting: PersistentQueue.empty<Pending<number>>(),
  sealing: PersistentQueue.empty<Pending<string>>(),
});

/** What the reducer accepts. */
export type ServerEvent =
  | { readonly type: "Opened"; readonly key: number; readonly now: number }
  | {
    readonly type: "Text";
    readonly key: number;
    readonly text: string;
    /** UTF-8 length of `text` (the transport knows it; computing it here would cost a copy). */
    readonly bytes: number;
    readonly now: number;
  }
  | { readonly type: "Binary"; readonly key: number; readonly now: number }
  | { readonly type: "Closed"; readonly key: number; readonly now: number }
  | { readonly type: "Tick"; readonly now: number }
  | { readonly type: "Shutdown"; readonly now: number };

/** What the driver must do. */
export type ServerEffect =
  | { readonly type: "Send"; readonly key: number; readonly text: string }
  | { readonly type: "Close"; readonly key: number; readonly code: number; readonly reason: string }
  | { readonly type: "Log"; readonly message: string };

/** Randomness and configuration. */
export interface ServerEnv {
  /** The limits to enforce. */
  readonly limits: ServerLimits;
  /** Member ids: each lobby's sequence of fresh ids per protocol range. */
  readonly memberIds: MemberIds;
  /** A random new lobby name (duplicates are retried). */
  readonly randomLobbyName: () => string;
}

/** What the reducer returns. */
export type ServerStep = readonly [ServerState, readonly ServerEffect[]];

/**
 * The default environment: {@link DEFAULT_LIMITS}, crypto-random ids and lobby names.
 *
 * @example
 * ```ts
 * import { defaultEnv } from "./lobby.ts";
 * console.log(defaultEnv({ maxPeers: 8 }).limits.maxPeers); // 8
 * ```
 */
export function defaultEnv(limits: Partial<ServerLimits> = {}): ServerEnv {
  return {
    limits: { ...DEFAULT_LIMITS, ...limits },
    memberIds: permutedMemberIds,
    randomLobbyName,
  };
}

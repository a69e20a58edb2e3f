/**
 * A harness for the pure lobby rules: deterministic ids and lobby names, effects without logs.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import type { Protocol } from "../../signaling/codec.ts";
import {
  DEFAULT_LIMITS,
  emptyServer,
  type IdKey,
  type MemberIds,
  reduceServer,
  type ServerEffect,
  type ServerEnv,
  type ServerLimits,
  type ServerState,
} from "../../signaling/lobby.ts";

/**
 * Member ids scripted by a test: each new id is `next(protocol)` (the test keeps them distinct and
 * in the protocol's range), remembered per lobby so that the rules can ask which ids a lobby has
 * handed out. Every lobby's key is a fresh number.
 */
export function scriptedIds(next: (protocol: Protocol) => number): MemberIds {
  let lobbies = 0;
  const given = new Map<string, number>();
  const ids = new Map<string, number>();
  return {
    newKey: () => [++lobbies],
    nth(key: IdKey, protocol: Protocol, k: number): number {
      const at = `${key[0]} ${protocol} ${k}`;
      let id = ids.get(at);
      if (id === undefined) {
        id = next(protocol);
        ids.set(at, id);
        given.set(`${key[0]} ${protocol} #${id}`, k);
      }
      return id;
    },
    indexOf: (key: IdKey, protocol: Protocol, id: number) =>
      given.get(`${key[0]} ${protocol} #${id}`) ?? Infinity,
  };
}

/** A test harness: deterministic ids (100, 101, ...) and lobby names (L1, L2, ...). */
export function harness(limits: Partial<ServerLimits> = {}, ids?: number[]) {
  let nextId = 100;
  let nextLobby = 1;
  const queue = ids ? [...ids] : undefined;
  const env: ServerEnv = {
    limits: { ...DEFAULT_LIMITS, ...limits },
    memberIds: scriptedIds(() => queue ? queue.shift()! : nextId++),
    randomLobbyName: () => `L${nextLobby++}`,
  };
  let state: ServerState = emptyServer;
  let now = 0;
  const run = (event: Parameters<typeof reduceServer>[1]): ServerEffect[] => {
    const [next, effects] = reduceServer(state, event, env);
    state = next;
    return [...effects].filter((e) => e.type !== "Log");
  };
  return {
    get state() {
      return state;
    },
    env,
    at(t: number) {
      now = t;
    },
    open: (key: number) => run({ type: "Opened", key, now }),
    text: (key: number, text: string) =>
      run({ type: "Text", key, text, bytes: new TextEncoder().encode(text).length, now }),
    binary: (key: number) => run({ type: "Binary", key, now }),
    closed: (key: number) => run({ type: "Closed", key, now }),
    tick: () => run({ type: "Tick", now }),
    shutdown: () => run({ type: "Shutdown", now }),
  };
}

export const send = (key: number, text: string): ServerEffect => ({ type: "Send", key, text });
export const close = (key: number, reason: string, code = 4000): ServerEffect => ({
  type: "Close",
  key,
  code,
  reason,
});

/**
 * Checks that each frame, sent as a new connection's first frame, closes it with 4000 and the
 * given reason, and that later frames of the closed connection change nothing.
 */
export function assertFirstFrameRefused(cases: readonly (readonly [string, string])[]): void {
  for (const [text, reason] of cases) {
    const h = harness();
    h.open(1);
    assertEquals(h.text(1, text), [close(1, reason)], text);
    assertEquals(h.state.connections.size, 0);
    assertEquals(h.text(1, "J: \n"), [], "later frames of a closed connection are ignored");
  }
}

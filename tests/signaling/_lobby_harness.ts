/**
 * A harness for the pure lobby rules: deterministic ids and lobby names, effects without logs.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import {
  DEFAULT_LIMITS,
  emptyServer,
  reduceServer,
  type ServerEffect,
  type ServerEnv,
  type ServerLimits,
  type ServerState,
} from "../../signaling/lobby.ts";

/** A test harness: deterministic ids (100, 101, ...) and lobby names (L1, L2, ...). */
export function harness(limits: Partial<ServerLimits> = {}, ids?: number[]) {
  let nextId = 100;
  let nextLobby = 1;
  const queue = ids ? [...ids] : undefined;
  const env: ServerEnv = {
    limits: { ...DEFAULT_LIMITS, ...limits },
    randomId: () => queue ? queue.shift()! : nextId++,
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

/**
 * What a relayed frame allocates in the signaling server's JS, without sockets:
 * `SignalingServer` (`signaling/server.ts`) with 100 lobbies of a host and a guest (Godot 3), every
 * guest relaying a candidate frame to its host in turn, as the relay benchmark's load does
 * (`bench/_relay.ts`). Prints the bytes allocated per relayed frame (the V8 heap's growth over
 * 2,000 frames after a full GC, in a young generation large enough that no collection falls in
 * between: median of 7 batches), for the server path and for the rules' step alone
 * (`reduceServer`), and the time per frame in a hot loop (the least of five runs of 100,000 frames).
 *
 * Deno: `./node_modules/deno/deno run -A --v8-flags=--expose-gc,--min-semi-space-size=64
 * bench/_relay_alloc.ts`. Node: bundle it (`bundleForNode` of `bench/_relay.ts`) and run
 * `node --expose-gc --min-semi-space-size=64 .test-results/_relay_alloc.mjs`.
 *
 * @module
 */
import process from "node:process";
import { SignalingServer } from "../signaling/server.ts";
import {
  defaultEnv,
  emptyServer,
  reduceServer,
  type ServerEvent,
  type ServerState,
} from "../signaling/lobby.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc (see the module documentation)");
const LOBBIES = 100;
const BATCH = 2000;
const limits = {
  maxPeers: 20000,
  maxLobbies: 10000,
  // No frame refused: the loop sends faster than a real client may.
  rateLimit: { messages: 1e9, intervalMs: 1000 },
};
const CANDIDATE = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 ts";
const frame = (i: number) => `C: 1\n0\n0\n${CANDIDATE} ${1234.5678 + i}`;

/** Median bytes allocated per call of `run(BATCH)`, per frame. */
function bytesPerFrame(run: (n: number) => void): number {
  const all: number[] = [];
  for (let b = 0; b < 7; b++) {
    gc!();
    const before = process.memoryUsage().heapUsed;
    run(BATCH);
    all.push((process.memoryUsage().heapUsed - before) / BATCH);
  }
  return all.sort((a, b) => a - b)[3];
}

/** Nanoseconds per frame of `run`, hot (the least of 5 runs: others' load only adds). */
function nsPerFrame(run: (n: number) => void): number {
  const all: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    run(100000);
    all.push((performance.now() - t0) * 10); // ms per 100,000 frames -> ns per frame
  }
  return Math.min(...all);
}

// The server path: socket handles as the WebSocket servers hold them.
let clock = 0;
const server = new SignalingServer({ limits, now: () => (clock += 0.1) });
const guests: ReturnType<SignalingServer["open"]>[] = [];
let delivered = 0;
for (let l = 0; l < LOBBIES; l++) {
  let name = "";
  const host = server.open({
    send: (text) => text.startsWith("J: ") ? name = text.slice(3, -1) : delivered++,
    close() {},
  });
  host.message("J: \n");
  const guest = server.open({ send() {}, close() {} });
  guest.message(`J: ${name}\n`);
  guests.push(guest);
}
const texts = guests.map((_, i) => frame(i));
const serverRun = (n: number) => {
  for (let i = 0; i < n; i++) guests[i % LOBBIES].message(texts[i % LOBBIES]);
};

// The rules alone, from the server's state.
const env = { ...defaultEnv(limits) };
let state: ServerState = server.state;
const keys = [...state.connections.values()].filter((c) => c.id !== 1).map((c) => c.key);
let now = clock;
const stepRun = (n: number) => {
  for (let i = 0; i < n; i++) {
    const j = i % LOBBIES;
    now += 0.1;
    const event: ServerEvent = { type: "Text", key: keys[j], text: texts[j], bytes: 90, now };
    state = reduceServer(state, event, env)[0];
  }
};
if (keys.length !== LOBBIES || state === emptyServer) throw new Error("lobbies not formed");

serverRun(50000);
stepRun(50000);
const sent = delivered;
const result = {
  runtime: "Deno" in globalThis ? "deno" : `node ${process.version}`,
  serverBytesPerFrame: bytesPerFrame(serverRun),
  stepBytesPerFrame: bytesPerFrame(stepRun),
  serverNsPerFrame: nsPerFrame(serverRun),
  stepNsPerFrame: nsPerFrame(stepRun),
};
if (delivered - sent !== 7 * BATCH + 5 * 100000) throw new Error("a frame was not relayed");
console.log(JSON.stringify(result));

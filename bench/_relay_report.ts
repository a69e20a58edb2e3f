/**
 * The "Signaling relay" section of BENCHMARKS.md, from the relay benchmark's results
 * (`bench/results/relay.json`, written by `deno task bench:relay`) and, when present, the same
 * harness's results on the servers before the hot-path work (`bench/results/relay_before.json`).
 *
 * @module
 */
import type { AllocResult, IdleResult, RelayLoad, RelayResult } from "./_relay.ts";
import { fmt } from "./_report.ts";

/** What `bench/relay.ts` writes. */
export interface RelayRun {
  readonly at: string;
  /** The commit the `--before` tree was exported from (`--before-commit`), when given. */
  readonly beforeCommit?: string;
  readonly loadavg: number;
  readonly load: RelayLoad;
  /** Per server: the round with the median CPU per frame, and every round's CPU per frame. */
  readonly relay: readonly (RelayResult & { readonly rounds?: readonly number[] })[];
  readonly idle: readonly IdleResult[];
}

/** What `bench/relay.ts --alloc-only` writes. */
export interface AllocRun {
  readonly at: string;
  /** The commit the before tree was exported from, when given. */
  readonly beforeCommit?: string;
  readonly after: readonly AllocResult[];
  readonly before?: readonly AllocResult[];
}

const RESULTS = new URL("./results/", import.meta.url);

/** Reads `bench/results/relay_alloc.json`, or undefined when there is none. */
export async function readAllocRun(): Promise<AllocRun | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(new URL("relay_alloc.json", RESULTS)));
  } catch {
    return undefined;
  }
}

function allocPart(alloc: AllocRun | undefined): string {
  if (alloc === undefined) return "";
  const rows = alloc.after.map((a, i) => {
    const b = alloc.before?.[i];
    const pair = (f: (x: AllocResult) => number) =>
      b === undefined ? fmt(f(a)) : `${fmt(f(b))} → ${fmt(f(a))}`;
    return [
      a.runtime,
      pair((x) => x.serverBytesPerFrame),
      pair((x) => x.stepBytesPerFrame),
      pair((x) => x.serverNsPerFrame),
      pair((x) => x.stepNsPerFrame),
    ];
  });
  return `
What a relayed frame allocates in the server's JS, sockets left out (\`bench/relay.ts --alloc-only\`,
\`bench/_relay_alloc.ts\`; raw data: \`bench/results/relay_alloc.json\`, ${alloc.at}): 100 lobbies,
every guest relaying a candidate frame to its host in turn, through \`SignalingServer\` (as a
socket's frame arrives) and through the rules' step alone (\`reduceServer\`); bytes are the V8
heap's growth per frame between two full GCs, with no collection in between; ns per frame: the
least of five hot loops of 100,000 frames in each of three processes (one process's times can be up
to 2× another's, JIT decisions and a shared machine: the bytes are the measure). ${
    alloc.before === undefined
      ? ""
      : `Before: the same script on the tree of ${
        alloc.beforeCommit === undefined ? "the earlier commit" : `commit ${alloc.beforeCommit}`
      }.`
  }

${
    table([
      "runtime",
      "bytes/frame, server path (before → after)",
      "bytes/frame, rules' step",
      "ns/frame, server path",
      "ns/frame, rules' step",
    ], rows)
  }

Where those bytes went before, per relayed frame (V8's sampling heap profiler with objects
collected by minor GCs included, Node 20, the server path, 200 connections): 499 in the persistent
map's copy of the path to the sender (a 32-slot root branch and a second-level one, each an object
and an array), 602 in the relay step itself (the sender's new \`Connection\`, whose three times are
boxed doubles, the map's new leaf and object, the new state, the step's \`[state, [Send]]\` and the
relayed frame's text: its new first line and the rest as a slice), the rest in the event object and
the test socket's copy of the text. Now: the map's branches have 16 slots (the path: 421 bytes; 8
slots: 443, more levels), hashes fit in 30 bits
so V8 keeps them unboxed (a string's 32-bit hash was a boxed number in every leaf and lookup), and
the server takes the rules' relay fast path as one plain object \`{ state, key, text }\`
(\`relay\` in \`signaling/lobby.ts\`) when no metrics observe the steps: no event, step, effects
array or \`Send\` per frame (\`reduceServer\`, for every other caller, still returns the step). What
is left: the map's path (two branches of 16 slots and the leaf), the sender's \`Connection\`, the
new state and map objects, and the frame's text. The rules stay pure: every relay returns a new
state and leaves the old one as it was (the tests compare old states after the step).
`;
}

/** Reads a results file of `bench/relay.ts`, or undefined when there is none. */
export async function readRelayRun(name: string): Promise<RelayRun | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(new URL(name, RESULTS)));
  } catch {
    return undefined;
  }
}

const GODOT = /godot/i;

/**
 * The whole path of issue 15, step by step (each step measured against Godot's server in its own
 * run); the last row is the run the section's tables come from.
 */
const PATH =
  `The table's "before" is the last step only (the Deno server's transport). The whole path, each
step measured against Godot's server in its own run (ratios, because the machine's load differs
between runs):

| when (2026-11-30)                               | tree              | Deno server / Godot                         | Node server / Godot                         |
| ----------------------------------------------- | ----------------- | ------------------------------------------- | ------------------------------------------- |
| as filed (the issue's measurement)              | before any work   | 33 µs vs 11–17 µs (about 2×)                | 23–29 µs vs 11–17 µs (about 2×)             |
| 07:06 UTC, the first hot-path work              | before → after    | 1.64 → 1.06                                 | 2.13 → 1.03                                 |
| 09:42 UTC, own framing, keep-alive ticks        | ea1be93 → 040ab78 | 1.09 → 1.02 (valid rounds 1.07, 1.02, 1.08) | 1.21 → 0.91 (valid rounds 0.92, 0.89, 0.96) |
| 10:13 UTC, allocation                           | 040ab78 → b90a378 | 1.08 → 1.06                                 | 0.94 → 0.95                                 |
| 12:16 UTC, the Deno server's transport, 9 rounds | 32b4ab0 → a22d0c1 | 1.04 → 1.01 (median of the rounds' ratios; \`Deno.listen\`: 1.07) | (not run)                                   |
| 12:22 UTC, the same (the table above), 7 rounds | 32b4ab0 → a22d0c1 | 1.03 → 1.02 (median of the rounds' ratios; \`Deno.listen\`: 1.05) | 0.96 → 0.96 (median of the rounds' ratios)  |

The 12:16 run is \`bench/results/relay_deno_transport.json\` (9 interleaved rounds, no idle part, the
Deno server then on \`Deno.listen\`, the \`node:http\` one a row of its own). So the Node server is at
or below Godot's CPU per frame since its own framing (by 0–11% in the valid rounds, close to the
round-to-round spread), and the Deno server, now on the same \`node:http\` server through Deno's Node
compatibility, is at Godot's: 1.01 and 1.02 in the median of two runs, below 1.0 in 3 of 7 rounds of
the last, never clearly below it. What is left above Godot's on Deno looks like the runtime's: the
same JavaScript (\`node:http\`, framing, rules, keep-alive) measured 0.99 of Godot's run by Node in
the same run, and Deno's Node compatibility carries each chunk from its own I/O into \`node:net\`
events. Its idle socket costs a third of what Deno's own
WebSocket cost (the idle table). Every round's CPU per frame varied by ±10% with the machine's load
(the Node server before and after this change, the same hot path, measured 0.97 and 0.99 of Godot's
in one run): a difference
of a few percent between two servers needs many interleaved rounds to show.
`;

function loads(r: RelayResult): string {
  return `${fmt(r.load[0], 1)}–${fmt(r.load[1], 1)}`;
}

/** A markdown table (first column left-aligned, the others right-aligned). */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [
    line(head),
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

/** The markdown section. */
export function relaySection(after: RelayRun, before?: RelayRun, alloc?: AllocRun): string {
  const prior = (name: string) => before?.relay.find((r) => r.name === name);
  const godotAfter = after.relay.find((r) => GODOT.test(r.name));
  const godotBefore = before?.relay.find((r) => GODOT.test(r.name));
  const relayRows = after.relay.map((r) => {
    const b = prior(r.name);
    return [
      r.name,
      b === undefined ? "" : fmt(b.cpuUsPerFrame, 1),
      fmt(r.cpuUsPerFrame, 1) +
      (r.rounds && r.rounds.length > 1 ? ` (${r.rounds.map((x) => fmt(x, 1)).join(", ")})` : ""),
      b === undefined || godotBefore === undefined
        ? ""
        : fmt(b.cpuUsPerFrame / godotBefore.cpuUsPerFrame, 2),
      godotAfter === undefined ? "" : fmt(r.cpuUsPerFrame / godotAfter.cpuUsPerFrame, 2),
      r.sysUsPerFrame === undefined ? "" : fmt(r.sysUsPerFrame, 1),
      `${fmt(r.p50Us)} / ${fmt(r.p99Us)}`,
      b === undefined ? "" : `${fmt(b.p50Us)} / ${fmt(b.p99Us)}`,
      `${r.relayed}/${r.sent}`,
      b === undefined ? loads(r) : `${loads(b)}; ${loads(r)}`,
    ];
  });
  const cell = (x: IdleResult | undefined, f: (x: IdleResult) => string) =>
    x === undefined ? "" : f(x);
  const idleRows = after.idle.flatMap((r) => {
    const b = before?.idle.find((x) => x.name === r.name);
    return [[
      r.name,
      cell(b, (x) => fmt(x.bytesPerSocket)),
      fmt(r.bytesPerSocket),
      cell(b, (x) => fmt(x.openMs / 1000, 1)),
      fmt(r.openMs / 1000, 1),
      cell(b, (x) => `${fmt(x.idleCpuMsPerSec, 2)} (${x.idleSeconds ?? 5} s)`),
      `${fmt(r.idleCpuMsPerSec, 2)} (${r.idleSeconds ?? 5} s)`,
      `${fmt(r.stillOpen)}/${fmt(r.sockets)}`,
    ]];
  });
  const load = after.load;
  return `## Signaling relay (issue 15)

Generated by \`deno task bench:relay --godot DIR --before DIR2\` (\`bench/relay.ts\`,
\`bench/_relay.ts\`); raw data: \`bench/results/relay.json\` (after) and
\`bench/results/relay_before.json\` (the servers of ${
    after.beforeCommit === undefined ? "an earlier commit" : `commit ${after.beforeCommit}`
  }, exported to DIR2, ${
    before?.at === after.at
      ? "measured in the same run, interleaved with the others"
      : "an earlier run"
  }). Run: ${after.at}${
    before && before.at !== after.at ? ` (before: ${before.at})` : ""
  }. Load: ${load.lobbies} lobbies of a host and a guest (Godot 3 text protocol), each guest sending
${load.rate} candidate frames/s to its host for ${load.seconds} s, paced; every server in its own
process, one after the other in one run, in interleaved rounds (each row: the round with the
median CPU per frame; every round's value in parentheses), the load from one Deno process. CPU: the server
process's CPU time (all threads, \`/proc/<pid>/task/*/schedstat\`) from the first frame to the last
arrival, per relayed frame; "of it kernel" is its system time (\`/proc/<pid>/stat\`, 10 ms ticks): the
socket reads and writes, which on loopback include delivering each frame to the receiving socket.
Latency: send to arrival in the load process (its own event-loop
delay included, equally for every server). The machine (2 cores) was shared with other jobs: the
1-minute load average at the start and end of each row's load is shown, before; after. Godot's row
is its Godot 3 demo \`server_node/server.js\` on ws 7.5.10, run from a scratch folder outside the
repo (patched only to read its port from \`PORT\` and bind 127.0.0.1).

${
    table([
      "server",
      "CPU µs/frame before",
      "after",
      "/ Godot before (same run)",
      "/ Godot after (same run)",
      "of it kernel µs after",
      "latency p50 / p99 µs after",
      "before",
      "relayed",
      "load average",
    ], relayRows)
  }
${
    godotBefore && godotAfter
      ? `\nGodot's server measured ${
        fmt(godotBefore.cpuUsPerFrame, 1)
      } µs/frame in the before run and ${
        fmt(godotAfter.cpuUsPerFrame, 1)
      } µs/frame in the after run: compare each row with Godot's in the same run. A round run while the
machine was saturated (its load process behind, latencies in the hundreds of milliseconds) has
frames coalescing into fewer reads and writes, so a low CPU per frame: the median discounts it.\n`
      : ""
  }
${PATH}
Where the CPU goes (profiles of 2026-11-30: \`node --cpu-prof\`, Deno's inspector, \`perf record\` with
\`--perf-basic-prof\`). About half of every server's CPU per frame is the kernel's (the column
above): the read and the write of each frame, the write on loopback also delivering it to the
receiving socket; that part is the same for every server. Before the hot-path work of issue 15,
the Node server ran on \`ws\` 8,
as Godot's does on \`ws\` 7: every chunk through \`ws\`'s \`Writable\` receiver, every frame through
cork, two writes and \`writev\`; the pure rules were 11% of its main thread's busy time. Its own
framing (\`signaling/_websocket.ts\`) parses and unmasks a frame in place in the chunk it came
in and writes an all-ASCII frame as one Latin-1 string, no buffer per frame: carrying the bare
relay's logic instead of the rules (a scratch experiment) it cost 0.82–0.87 of Godot's CPU per
frame. What the Node server adds to that is the rules' step: in \`perf\`, \`relayStep\` 4.4% of the
process's samples, \`PersistentMap.get\` 2.5%, the step's dispatch with its send 2.8% (the framing's
parse: 3.2%). The rules take 0.45 µs per frame in a hot loop, several times that between the
kernel's work, with cold caches and the new state's path to allocate.

The Deno server ran on \`Deno.serve\` and Deno's own \`WebSocket\` until 32b4ab0, which was its floor:
in the inspector's profile of its JS thread, dispatching each \`message\` event cost 18% beyond our
handler, our rules 21%, and with \`idleTimeout\` on (the keep-alive that drops silent clients) Deno
re-armed a timer on every frame received (8% of the JS thread, more in the runtime); its server
\`WebSocket\` cannot send a ping of its own, so keep-alive could not move to one timer. Now it runs
the Node server's \`node:http\` server through Deno's Node compatibility (\`signaling/_http_node.ts\`,
shared by both servers, the Deno one adding its static files), with the same framing
(\`signaling/_websocket.ts\`; \`_websocket_node.ts\` is its \`node:net\` glue) and the same keep-alive
(\`signaling/_sockets.ts\`: one timer for all sockets). Two transports were measured for it, both with
our framing and keep-alive: that one, and one of our own on \`Deno.listen\` (a minimal HTTP/1.1,
\`conn.read\` into a buffer per connection, writes joined while one is in flight; commit ed74f9b, the
row "Deno server on Deno.listen"). \`node:http\` under Deno cost less CPU per frame in the same rounds
(in a 9-round run the day of the change: 1.01 of Godot's in the median round against 1.07 for
\`Deno.listen\` and 1.04 for \`Deno.serve\`, lower than \`Deno.listen\` in 8 of 9 rounds), a third of
the memory per idle socket and less idle CPU (the idle table). In the inspector's profile of the
\`Deno.listen\` transport, \`op_write\` (the write, which on loopback carries the kernel's delivery of
the frame) was three quarters of its JS thread's busy time, our JavaScript (transport, framing,
rules) the rest; in \`perf\`, its samples were 55% kernel, 24% the \`deno\` binary (the runtime:
tokio, the ops' dispatch, V8's builtins such as promises), 16% JIT code, 4% \`malloc\`: per frame a
read op and a write op, each with its promise, and a read pending on every socket with its buffer.
${allocPart(alloc)}
Idle sockets: WebSockets opened and joined (lobbies of 2), then left idle. Memory is the server's
RSS growth after a full GC (\`--expose-gc\`) divided by the sockets. Open is the time to open and
join them all from the load process, 100 lobbies at a time (under load the load process is the
bottleneck: compare within a run). Idle CPU is the server's CPU per second over the idle window in
parentheses: the lobby rules cost nothing while sockets idle (no timer per socket: one timer for
the whole server, the front of its deadline queues; the rate limit is computed when a frame
arrives). What remains is keep-alive, which also drops a silent client within \`idleTimeoutMs\`
(8 s; docs/liveness.md): both servers ping a socket quiet for three of their ticks (every 1.6 s),
so an idle socket every 4.8 s; Deno's own WebSocket (the Deno server before) pinged a socket quiet
for half its \`idleTimeout\` (7 s), so every 3.5 s, at about 20 µs a ping cycle. Godot's server pings
every socket every 10 s and drops nobody. The \`Deno.listen\` candidate held a 4 KiB read buffer and
a pending read op per socket.

${
    table([
      "server",
      "bytes/socket before",
      "after",
      "open s before",
      "after",
      "idle CPU ms/s before",
      "after",
      "still open",
    ], idleRows)
  }
`;
}

/** Replaces (or inserts) the section in BENCHMARKS.md's text. */
export function withRelaySection(page: string, section: string): string {
  const start = page.indexOf("## Signaling relay");
  if (start >= 0) {
    const next = page.indexOf("\n## ", start + 1);
    return page.slice(0, start) + section.trimEnd() + "\n" +
      (next < 0 ? "" : page.slice(next));
  }
  const anchor = page.indexOf("## The one-second pair setup");
  if (anchor < 0) return page.trimEnd() + "\n\n" + section;
  return page.slice(0, anchor) + section.trimEnd() + "\n\n" + page.slice(anchor);
}

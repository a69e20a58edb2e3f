/**
 * `deno task bench [--quick] [--stack ndc|wrtc]`: every WebRTC stack of Deno and Node measured in
 * the same run on the same machine, one after the other, each in a process of its own
 * (bench/_run.ts with `MESH_STACK`): the mesh's cost against the raw stack, and the stacks against
 * each other. Writes `bench/results/latest.json`, one formation plot per stack and (full runs of
 * every stack only) `BENCHMARKS.md`.
 *
 * @module
 */
import { isStackName, type StackName, STACKS } from "../adapters/stack.ts";
import { STAR_SECTION } from "./_star_report.ts";
import type { Formation, Rate } from "./_cases.ts";
import {
  fmt,
  type FormationSeries,
  formationSvg,
  markdownTable,
  median,
  type Row,
} from "./_report.ts";

const quick = Deno.args.includes("--quick");
/** `--render`: only write BENCHMARKS.md again from bench/results/latest.json (no measuring). */
const renderOnly = Deno.args.includes("--render");
const only = Deno.args.includes("--stack") ? Deno.args[Deno.args.indexOf("--stack") + 1] : "";
if (only !== "" && !isStackName(only)) {
  console.error(`bench: --stack ${only}: must be one of ${STACKS.join(", ")}`);
  Deno.exit(2);
}
const stacks: StackName[] = only === "" ? [...STACKS] : [only as StackName];
const root = new URL("../", import.meta.url);
const results = new URL("bench/results/", root);
await Deno.mkdir(results, { recursive: true });

/** What bench/_run.ts writes for one stack. */
interface StackResult {
  stack: StackName;
  config: Record<string, unknown> & { seconds: number; rounds: number; rtts: number };
  startedAt: string;
  elapsedSeconds: number;
  rows: Row[];
  series: FormationSeries[];
  machine: Record<string, unknown>;
  throughput: { raw: Rate[]; packets: Rate[]; drain: Rate[]; best: "packets" | "drain" };
  latency_reliable: LatencyStats;
  latency_unreliable: LatencyStats;
  broadcast: { raw: Rate[]; mesh: Rate[] };
  formation: Record<string, { raw: Formation[]; mesh: Formation[] }>;
  crashDetectionSeconds?: number[];
  crashDetectionLivenessSeconds?: number[];
  /** /proc/loadavg's 1-minute figure before and after this stack's run. */
  load: [number, number];
}

interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}
interface LatencyStats {
  raw: Quantiles;
  packets: Quantiles;
  drain: Quantiles;
  best: "packets" | "drain";
}

async function loadavg(): Promise<number> {
  try {
    return Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
  } catch {
    return NaN;
  }
}

/** A cell for what a stack could not measure (see bench/_run.ts). */
const NOT_MEASURED = "n/a (fds)";

/** The stacks' long names. */
const STACK_NAMES: Record<StackName, string> = {
  ndc: "node-datachannel",
  wrtc: "@roamhq/wrtc",
};

// ---- the comparison ----

/** One line of the stack comparison: a label and each stack's value (lower or higher is better). */
interface Compared {
  name: string;
  values: number[];
  text: string[];
  better: "lower" | "higher" | "";
}

function bestRate(r: StackResult): number {
  const med = (rs: Rate[]) => median(rs.map((x) => x.msgsPerSec));
  return Math.max(med(r.throughput.packets), med(r.throughput.drain));
}
function bestMb(r: StackResult): number {
  const med = (rs: Rate[]) => median(rs.map((x) => x.mbPerSec));
  return Math.max(med(r.throughput.packets), med(r.throughput.drain));
}
function latency(l: LatencyStats, q: "p50" | "p99"): number {
  return l[l.best][q];
}
function formations(r: StackResult, n: number, side: "raw" | "mesh"): Formation[] {
  return r.formation[String(n)]?.[side] ?? [];
}
function slowPairs(r: StackResult, n: number): [number, number] {
  const all = [...formations(r, n, "raw"), ...formations(r, n, "mesh")].flatMap((f) => f.pairMs);
  return [all.filter((ms) => ms > 500).length, all.length];
}

function compare(rs: StackResult[]): Compared[] {
  const lines: Compared[] = [];
  const add = (
    name: string,
    better: Compared["better"],
    value: (r: StackResult) => number,
    text: (r: StackResult) => string,
  ) => lines.push({ name, better, values: rs.map(value), text: rs.map(text) });
  add("throughput msgs/s, mesh (1200 B, reliable)", "higher", bestRate, (r) => fmt(bestRate(r)));
  add("throughput MB/s, mesh", "higher", bestMb, (r) => fmt(bestMb(r), 1));
  for (const kind of ["reliable", "unreliable"] as const) {
    for (const q of ["p50", "p99"] as const) {
      const l = (r: StackResult) => latency(r[`latency_${kind}`], q);
      add(`RTT ${q} µs ${kind}, mesh`, "lower", l, (r) => fmt(l(r), 1));
    }
  }
  const bc = (r: StackResult) => median(r.broadcast.mesh.map((x) => x.msgsPerSec));
  add("broadcast 1->7 delivered msgs/s, mesh", "higher", bc, (r) => fmt(bc(r)));
  const ns = rs[0].series.map((s) => s.n);
  for (const n of ns) {
    const ms = (r: StackResult) => median(formations(r, n, "mesh").map((f) => f.ms));
    const max = (r: StackResult) => Math.max(...formations(r, n, "mesh").map((f) => f.ms));
    add(
      `formation N=${n} ms, mesh, median (max)`,
      "lower",
      ms,
      (r) =>
        formations(r, n, "mesh").length === 0 ? NOT_MEASURED : `${fmt(ms(r))} (${fmt(max(r))})`,
    );
  }
  for (const n of ns) {
    const slow = (r: StackResult) => slowPairs(r, n)[1] === 0 ? NaN : slowPairs(r, n)[0];
    add(
      `formation N=${n}: pairs over 500 ms, raw + mesh`,
      "lower",
      slow,
      (r) => Number.isNaN(slow(r)) ? NOT_MEASURED : `${slow(r)} of ${slowPairs(r, n)[1]}`,
    );
  }
  const rssN = Math.min(...rs.map((r) => r.series[r.series.length - 1].n));
  const rss = (r: StackResult) =>
    median(formations(r, rssN, "mesh").map((f) => f.rssPerConnection)) / 1024;
  add(`RSS per connection KB, mesh (N=${rssN})`, "lower", rss, (r) => fmt(rss(r)));
  const crashKinds = [
    ["crashDetectionSeconds", "stack alone"],
    ["crashDetectionLivenessSeconds", "with liveness"],
  ] as const;
  for (const [key, how] of crashKinds) {
    if (!rs.every((r) => (r[key] ?? []).length > 0)) continue;
    const crash = (r: StackResult) => median(r[key]!);
    add(
      `crash detection s (${how}), SIGKILL -> peer_disconnected, median (max)`,
      "lower",
      crash,
      (r) => `${fmt(crash(r), 1)} (${fmt(Math.max(...r[key]!), 1)})`,
    );
  }
  return lines;
}

function winner(c: Compared, rs: StackResult[]): string {
  if (c.better === "" || c.values.some((v) => !Number.isFinite(v))) return "";
  const [a, b] = c.values;
  if (a === b) return "same";
  const aWins = c.better === "lower" ? a < b : a > b;
  return rs[aWins ? 0 : 1].stack;
}

function ratio(c: Compared): string {
  const [a, b] = c.values;
  if (!(a > 0) || !Number.isFinite(b)) return "";
  return fmt(b / a, 2);
}

function comparisonRows(rs: StackResult[]): string[][] {
  return compare(rs).map((c) => [c.name, ...c.text, ratio(c), winner(c, rs)]);
}

function comparisonHead(rs: StackResult[]): string[] {
  return [
    "metric",
    ...rs.map((r) => `${r.stack} (${STACK_NAMES[r.stack]})`),
    `${rs[1]?.stack}/${rs[0].stack}`,
    "better",
  ];
}

function comparisonText(rs: StackResult[]): string {
  const all = [comparisonHead(rs), ...comparisonRows(rs)];
  const w = all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  "))
    .join("\n");
}

function comparisonMarkdown(rs: StackResult[]): string {
  const head = comparisonHead(rs);
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...comparisonRows(rs).map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** The recommendation, from the numbers of this run. */
function recommendation(rs: StackResult[]): string {
  const [ndc, wrtc] = rs;
  const c = compare(rs);
  const wins = (stack: string) => c.filter((x) => winner(x, rs) === stack).length;
  const nMax = Math.min(...rs.map((r) => r.series[r.series.length - 1].n));
  const small = (r: StackResult) => r.series.filter((x) => x.n <= 4);
  const slow = (r: StackResult) => small(r).reduce((sum, x) => sum + slowPairs(r, x.n)[0], 0);
  const pairs = (r: StackResult) => small(r).reduce((sum, x) => sum + slowPairs(r, x.n)[1], 0);
  const crash = (r: StackResult) => r.crashDetectionSeconds ? median(r.crashDetectionSeconds) : NaN;
  const rate = bestRate(wrtc) / bestRate(ndc);
  const rss = (r: StackResult) =>
    median(formations(r, nMax, "mesh").map((f) => f.rssPerConnection)) / 1024;
  const lead = wins("ndc") >= wins("wrtc") ? "ndc" : "wrtc";
  const other = lead === "ndc" ? "wrtc" : "ndc";
  const lines = [
    `In this run libwebrtc (wrtc) is better on ${wins("wrtc")} of the ${c.length} measured lines`,
    `and node-datachannel (ndc) on ${wins("ndc")}. One-second stalls (pairs over 500 ms at N = 2`,
    `and 4, where a run is otherwise short): ndc ${slow(ndc)} of ${pairs(ndc)}, wrtc`,
    `${slow(wrtc)} of ${pairs(wrtc)}. Crash detection (median): ndc ${fmt(crash(ndc), 1)} s,`,
    `wrtc ${fmt(crash(wrtc), 1)} s. Mesh throughput wrtc/ndc: ${fmt(rate, 2)}. RSS per`,
    `connection: ndc ${fmt(rss(ndc))} KB, wrtc ${fmt(rss(wrtc))} KB.`,
    "",
    `**Recommendation from this run:** ${lead} as the default (better on ${wins(lead)} lines);`,
    `${other} where its own lines matter more.`,
  ];
  return lines.join("\n");
}

/**
 * The page with the departure-detection table of `deno task bench:liveness` (bench/liveness.ts)
 * appended, when that was run (crash detection with our liveness, next to the stack's own), and
 * the star section of `deno task bench:star` kept from the page as it was.
 */
async function withLiveness(page: string): Promise<string> {
  const liveness = await Deno.readTextFile(new URL("liveness.md", results)).catch(() => "");
  // The star section (bench/star.ts, run by hand) is kept as it is, last.
  const previous = await Deno.readTextFile(new URL("BENCHMARKS.md", root)).catch(() => "");
  const star = previous.indexOf(STAR_SECTION);
  return [page, liveness, star >= 0 ? previous.slice(star) : ""].filter((part) => part !== "")
    .join("\n");
}

function markdown(rs: StackResult[]): string {
  const m = rs[0].machine;
  const load = rs.map((r) =>
    `${r.stack}: ${fmt(r.load[0], 2)} before, ${fmt(r.load[1], 2)} after (${
      fmt(r.elapsedSeconds, 0)
    } s)`
  ).join("; ");
  const cfg = rs[0].config;
  const perStack = rs.map((r) =>
    `## ${r.stack}: the mesh against raw ${STACK_NAMES[r.stack]}

${markdownTable(r.rows)}

![formation time vs N, ${r.stack}](bench/results/formation-${r.stack}.svg)
`
  ).join("\n");
  return `# Benchmarks

Generated by \`deno task bench\` (\`bench/main.ts\`, each stack in its own process by
\`bench/_run.ts\`); do not edit by hand. Raw data: \`bench/results/latest.json\`.

Both WebRTC stacks of Deno and Node are measured in the same run on the same machine, one after the
other: node-datachannel (\`ndc\`, libdatachannel ${m.nodeDatachannel}) and @roamhq/wrtc (\`wrtc\`,
Google's libwebrtc, ${m.wrtc}). For each, the mesh and the raw stack run in the same process,
interleaved or back to back, with the same payloads and the same flow control (each sender keeps at
most 1024 KiB buffered per channel and waits for \`bufferedamountlow\`). "raw" is the same pair of
that stack's \`RTCPeerConnection\`s with the mesh's three negotiated channels, using \`send\` and
\`message\` events directly.

Run: ${rs[0].startedAt}. Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Deno
${m.deno} (V8 ${m.v8}). Load: this machine was shared with other jobs (up to 7 other agents' builds
and tests) while this ran; 1-minute load average ${load}. Absolute numbers are noisy under such
load: compare the ratios within one run, and the two stacks only as measured back to back here.

## Which stack

${comparisonMarkdown(rs)}

"better" compares the two stacks' mesh figures (setup stalls: raw and mesh pairs together); the
ratio is wrtc over ndc. Crash detection: a peer process killed with SIGKILL while the mesh sends
to it every 50 ms, time until \`peer_disconnected\` (${
    Number(cfg.crashRuns)
  } runs per stack), with the mesh's liveness off (\`liveness: false\`), i.e. as the stacks give it; with
liveness (its defaults) see "Departure detection" below.

${recommendation(rs)}

The recommendation that follows from these numbers, and how to choose, is in README's "Choosing a
stack". Stack defects and their workarounds: README's "Reliability", and below.

- Throughput: one pair, reliable channel, 1200-byte packets, ${cfg.seconds} s per measurement,
  ${cfg.rounds} rounds per side (median). The mesh is read both with \`packets()\` and with a
  \`getPacket()\` drain run on each channel \`message\` event; the better one is the headline.
- RTT: 32-byte ping-pong, ${cfg.rtts} round trips per side in ${cfg.blocks} interleaved blocks, after
  a warm-up; the echoing mesh reads with \`packets()\`.
- Broadcast: one sender, 7 receivers; \`putPacket\` broadcast vs 7 raw \`send\`s per message.
- Formation: time from the first \`addPeer\` (raw: first \`createDataChannel\`) until every peer
  reports every other connected (raw: every connection \`connected\` and its 3 channels open), all
  N(N-1)/2 pairs negotiated concurrently with in-process signaling (\`connectPair\`); ${cfg.runs}
  runs per N and side. A pair's setup: from the start of the run until both of its ends announced
  it (raw: both ready); all pairs start together, so once a whole run takes longer than 500 ms
  every pair counts as over 500 ms, and the count shows one-second stalls only where runs are short
  (N = 2 and 4; N = 8 on ndc). RSS
  per connection: RSS growth while formed / connection objects.
- Star (Godot 4): one \`WebRTCMultiplayerPeer\` server and N clients in one process
  (\`bench/_star.ts\`), against N raw pairs of the same stack with the same channels. Formation:
  first \`addPeer\` until every client is \`connected_to_server\` and the server announced all.
  Broadcast, from 5.5 s after formation (past the liveness probe window, in which no beat is
  skipped): the server sends one 200-byte state per tick at 20 Hz to every client (raw: one
  \`send\` per client); CPU is the whole process's user + system time (every thread, the stack's
  included) per client per second; lost counts states not delivered. Rows appear in a run that
  measured them (bench/_run.ts, N = 8/32/64; --quick: N = 8).
- Reducer: the pure core on the event stream of an 8-peer session (\`bench/_reducer.ts\`); it does
  not depend on the stack and is measured in both processes.

${perStack}
${DEFECTS}`;
}

/** The stack defects' sections (fixed text; the numbers above are this run's). */
const DEFECTS = `## ndc: the one-second pair setup (formation)

Some libdatachannel pairs, raw and mesh alike, take about one second instead of a few milliseconds:
about one pair in 25 on this loopback (100-pair samples: 3 to 6), after the two fixes below. With
the N(N-1)/2 pairs of a formation run, a run of N = 4 or more can draw one, and the median ratio at
small N then depends on which side drew it. libwebrtc has no such stall.

- Remaining cause, found in libdatachannel's source (\`src/impl/dtlstransport.cpp\`, 0.24.5 and
  master): \`DtlsTransport::start()\` calls \`registerIncoming()\` before
  \`changeState(Connecting)\`. A ClientHello that reached the DTLS server side before its ICE agent
  reported connected is buffered, handed over by \`registerIncoming()\` at once, and discarded by
  \`doRecv()\` on another thread, which still sees the state \`Disconnected\`. The handshake then
  waits for OpenSSL's first retransmission, fixed at 1 s. Swapping those two lines upstream would
  remove it. The 50 ms and 500 ms steps are libjuice's check pacing and STUN retransmission.
- Fixed here (1): node-datachannel's W3C polyfill leaves libdatachannel's automatic negotiation on.
  The mesh's \`createDataChannel\` therefore made every connection an offerer at once, and the
  answering side rolled its own offer back (its ICE agent stayed controlling, which caused role
  conflicts). The adapter (\`adapters/node_datachannel.ts\`) turns it off. Over 100 pairs the
  median pair setup fell from 54 ms to 6 ms and slow pairs from about 28% to about 17%; about one
  setup in a thousand had failed outright.
- Fixed here (2): offers now go without their ICE candidates, and the offerer's candidates follow
  once it has applied the answer (\`connectPair\` and the signaling client;
  \`withoutCandidates\` in \`adapters/loopback.ts\`). The answerer therefore no longer finishes
  ICE, and sends its ClientHello, before the offerer is ready for it: slow pairs fell from about 17%
  to about 4%. It also closes a rare hard failure: libdatachannel gives ICE the remote description
  before the connection stores it, so a handshake that overtook the answer found no fingerprint
  ("certificate verify failed", then "Got a remote candidate without ICE transport"). The signaling
  client also sets up again any connection that fails before it connected (\`setupAttempts\`).
- Tried without success: binding to 127.0.0.1; rewriting the answer to \`a=setup:passive\`
  (hangs). Offering \`a=setup:active\` made the offerer the DTLS client, but it rewrites SDP the
  stack made; it is not used.

## wrtc: defects of @roamhq/wrtc 0.10.0

Each is reproduced on the raw stack, without mesh code, in \`tests/stack/wrtc_raw_test.ts\` (which
fails once an upstream release fixes it, so the workaround can go).

- Every connection that starts ICE gathering makes every connection of the process that is still
  gathering gather again on every interface: K connections set up at once open O(K²) sockets (40
  gave 3,344 candidates instead of 320). The formation runs above put up to 240 connections in one
  process; without the adapter's limit (6 connections gathering at once, each for at most 250 ms)
  42 connections ran out of 20,000 file descriptors and stalled. The limit is what makes wrtc's
  formation slower than ndc's at large N, and its pairs over 500 ms are pairs waiting for a slot.
- Every attribute read and \`send\` is a blocking call into libwebrtc's threads (\`send\` about
  60 µs, \`connectionState\` 10 µs, \`sctp.maxMessageSize\` 44 µs, measured raw), and
  \`bufferedAmount\` stays 0: a sender and receivers in one process share those threads, hence the
  lower throughput. The adapter caches \`sctp.maxMessageSize\`, which the mesh reads per packet;
  \`bufferedAmount\` (about 10 µs a read in a 64-client star) the mesh reads only when its bound of
  it could pass the high-water mark (README, back-pressure).
- A channel created without \`maxPacketLifeTime\`/\`maxRetransmits\` reports 65535 for both instead
  of \`null\` (the binding reads libwebrtc's deprecated getters, whose "unset" is 0xFFFF). The adapter
  reports \`null\` for a limit the channel was not given.
- \`setLocalDescription()\` without an argument (W3C's implicit form) throws "Expected an object".
  The adapter makes the offer or answer first, as W3C says.
- In \`deno test\`, a test module that read \`pc.sctp\` and ends right after \`close()\` segfaults
  at exit (gdb: \`node_webrtc::AsyncObjectWrapWithLoop<RTCSctpTransport>::DidStop()\` after the
  isolate is gone). \`deno run\` and Node exit cleanly. One macrotask after closing avoids it; the
  test helpers take it (\`settleNative\` in \`tests/_mesh.ts\`).
`;

/**
 * The sections of BENCHMARKS.md that other harnesses write (`deno task bench:relay`, and
 * `bench/_cluster_report.ts` for the instances sharing lobbies through Redis), carried over from
 * the old page into the new one.
 */
function keepHarnessSections(page: string, old: string): string {
  let out = page;
  for (const title of ["## Signaling relay", "## Signaling across instances"]) {
    const start = old.indexOf(title);
    if (start < 0 || out.includes(title)) continue;
    const next = old.indexOf("\n## ", start + 1);
    out = `${out.trimEnd()}\n\n${old.slice(start, next < 0 ? undefined : next).trimEnd()}\n`;
  }
  return out;
}

async function main(): Promise<void> {
  if (renderOnly) {
    const latest = JSON.parse(await Deno.readTextFile(new URL("latest.json", results)));
    const md = new URL("BENCHMARKS.md", root);
    await Deno.writeTextFile(
      md,
      keepHarnessSections(await withLiveness(markdown(latest.stacks)), await Deno.readTextFile(md)),
    );
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", md.pathname] }).output();
    console.log(comparisonText(latest.stacks));
    return;
  }
  const started = new Date();
  const measured: StackResult[] = [];
  for (const stack of stacks) {
    const file = new URL(`${quick ? "quick" : "stack"}-${stack}.json`, results).pathname;
    const before = await loadavg();
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./_run.ts", import.meta.url).pathname,
        "--out",
        file,
        ...(quick ? ["--quick"] : []),
      ],
      env: { MESH_STACK: stack },
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!run.success) {
      console.error(`bench: the ${stack} run failed (exit code ${run.code})`);
      Deno.exit(1);
    }
    const result = JSON.parse(await Deno.readTextFile(file)) as StackResult;
    result.load = [before, await loadavg()];
    measured.push(result);
    await Deno.remove(file);
  }

  const combined = { quick, startedAt: started.toISOString(), stacks: measured };
  await Deno.writeTextFile(
    new URL(quick ? "quick.json" : "latest.json", results),
    JSON.stringify(combined, null, 2) + "\n",
  );
  if (!quick) {
    for (const r of measured) {
      await Deno.writeTextFile(
        new URL(`formation-${r.stack}.svg`, results),
        formationSvg(r.series, `raw ${STACK_NAMES[r.stack]}`),
      );
    }
  }
  if (!quick && stacks.length === STACKS.length) {
    const md = new URL("BENCHMARKS.md", root);
    await Deno.writeTextFile(
      md,
      keepHarnessSections(await withLiveness(markdown(measured)), await Deno.readTextFile(md)),
    );
    // Keep the generated files in the repository's format (`deno fmt --check` is part of the tests).
    const outputs = [
      md,
      new URL("latest.json", results),
      ...measured.map((r) => new URL(`formation-${r.stack}.svg`, results)),
    ];
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "-q", ...outputs.map((u) => u.pathname)],
    })
      .output();
  }
  if (stacks.length === STACKS.length) console.log("\n" + comparisonText(measured));
}

await main();

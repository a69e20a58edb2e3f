/**
 * Soak of the star (issue 17): a server (`createServer` through a Godot 4 client/server lobby, in
 * this process with the signaling server) broadcasts 100-byte ticks at 20 Hz, alternately
 * unreliable and reliable, while `--clients` clients in processes of at most 32 join, read ticks,
 * say hello, leave and join again, for `--minutes`. This process's RSS, heap, open file
 * descriptors and threads are sampled every 10 s; RSS is judged from its plateau on
 * (`soak/_rss.ts`); after every client left, file descriptors and threads must be back near their
 * values before and during the run.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc soak/star.ts [--minutes 10] [--clients 64] [--json FILE]
 *                                                   [--heap-snapshots DIR]
 * ```
 *
 * Exits 0 when no cycle failed and nothing leaked, else 1.
 *
 * @module
 */
import { parseArgs } from "node:util";
import v8 from "node:v8";
import { TransferMode } from "../core/constants.ts";
import { joinLobbyGodot4 } from "../signaling/client_godot4.ts";
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import { lines } from "../demo/_lines.ts";
import { judgeRss, type RssSample } from "./_rss.ts";
import { type ProcessSample, sampleProcess } from "./_process.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    clients: { type: "string", default: "64" },
    "per-process": { type: "string", default: "32" },
    "max-fds": { type: "string", default: "16" },
    json: { type: "string" },
    "heap-snapshots": { type: "string" },
  },
});
const MINUTES = Number(args.minutes);
const CLIENTS = Number(args.clients);
const PER_PROCESS = Number(args["per-process"]);
/**
 * The heap may grow this much per join between the two quiet points: the lobby remembers every id
 * it handed out (ids are never reused while it lives), tens of bytes each; a leaked queue per
 * client was 5x.
 */
const MAX_HEAP_KIB_PER_JOIN = 0.1;
/** When the first quiet point is taken, as a share of the run (after the warm-up). */
const FIRST_QUIET = 0.4;

interface Sample extends RssSample, ProcessSample {
  /** Clients connected to the server at that moment. */
  peers: number;
}

const signaling = await serveSignalingDeno({ port: 0 });
const host = await joinLobbyGodot4(signaling.url, "", { clientServer: true });
const server = host.peer;
let joins = 0;
let hellos = 0;
server.addEventListener("peer_connected", () => joins++);
(async () => {
  for await (const p of server.packets()) {
    if (new TextDecoder().decode(p.data).startsWith("hello")) hellos++;
  }
})();
let seq = 0;
const ticker = setInterval(() => {
  server.transferMode = seq % 2 ? TransferMode.RELIABLE : TransferMode.UNRELIABLE;
  server.targetPeer = 0;
  const tick = new Uint8Array(100);
  new DataView(tick.buffer).setUint32(0, seq++);
  server.putPacket(tick); // ERR_UNCONFIGURED never: the server stays up; 0 peers is fine
}, 50);

const started = performance.now();
async function sample(): Promise<Sample> {
  const atMs = Math.round(performance.now() - started);
  const process = await sampleProcess();
  const peers = [...server.getPeers().values()].filter((p) => p.connected).length;
  return { atMs, joins, ...process, peers };
}

const before = await sample();
const cycles = { ok: 0, failed: 0, reasons: new Map<string, number>() };
const children: {
  child: Deno.ChildProcess;
  done: Promise<void>;
  input: WritableStreamDefaultWriter<Uint8Array>;
}[] = [];
for (let first = 0; first < CLIENTS; first += PER_PROCESS) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_star_churn.ts", import.meta.url).pathname,
      signaling.url,
      host.lobby,
      String(Math.min(PER_PROCESS, CLIENTS - first)),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const done = (async () => {
    for await (const line of lines(child.stdout)) {
      const m = JSON.parse(line);
      if ("ok" in m) cycles.ok++;
      else if ("failed" in m) {
        cycles.failed++;
        cycles.reasons.set(m.failed, (cycles.reasons.get(m.failed) ?? 0) + 1);
      }
    }
  })();
  children.push({ child, done, input: child.stdin.getWriter() });
}
const tell = (line: string) =>
  Promise.all(children.map((c) => c.input.write(new TextEncoder().encode(line + "\n"))));

/**
 * A quiet point: every client finishes its cycle and waits, the server holds no peer, and the
 * process is sampled (with a heap snapshot under --heap-snapshots). Two quiet points compare the
 * heap in the same state, 0 peers: samples taken while clients come and go differ by the peers
 * connected at that moment (a few hundred KiB of heap each), which swamps a per-join slope.
 */
async function quietPoint(name: string): Promise<Sample & { heapKiB: number }> {
  await tell("pause");
  const by = Date.now() + 60_000;
  while (server.getPeers().size > 0 && Date.now() < by) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 3000)); // closing connections finish on native threads
  const s = await sample();
  // The heap to the KiB (the samples round to 0.1 MiB), right after the sample's collections.
  const heapKiB = Math.round(Deno.memoryUsage().heapUsed / 1024);
  if (args["heap-snapshots"]) {
    const file = `${args["heap-snapshots"]}/star-${name}.heapsnapshot`;
    v8.writeHeapSnapshot(file);
    console.error(`[soak:star] heap snapshot ${file}`);
  }
  console.error(
    `[soak:star] quiet point ${name}: ${s.joins} joins, ${s.peers} connected, heap ${heapKiB} KiB`,
  );
  return { ...s, heapKiB };
}
const quiet: (Sample & { heapKiB: number })[] = [];

const samples: Sample[] = [before];
const end = started + MINUTES * 60_000;
let quietDue = started + MINUTES * 60_000 * FIRST_QUIET;
while (performance.now() < end) {
  await new Promise((r) => setTimeout(r, Math.min(10_000, Math.max(0, end - performance.now()))));
  if (performance.now() >= quietDue) {
    quiet.push(await quietPoint("1"));
    quietDue = Infinity;
    await tell("resume");
  }
  const s = await sample();
  samples.push(s);
  console.error(
    `[soak:star] ${Math.round(s.atMs / 1000)} s: ${s.joins} joins, ${s.peers} connected, ` +
      `RSS ${s.rssMiB} MiB, heap ${s.heapMiB} MiB, ${s.fds} fds, ${s.threads} threads; ` +
      `cycles ok ${cycles.ok}, failed ${cycles.failed}`,
  );
}

// The second quiet point, then everyone leaves; then the server must be back to where it was.
quiet.push(await quietPoint("2"));
for (const { input } of children) await input.close();
await Promise.all(children.map(async ({ child, done }) => {
  const t = setTimeout(() => child.kill("SIGKILL"), 60_000);
  await child.status;
  await done;
  clearTimeout(t);
}));
const leftBy = Date.now() + 30_000;
while (server.getPeers().size > 0 && Date.now() < leftBy) {
  await new Promise((r) => setTimeout(r, 100));
}
await new Promise((r) => setTimeout(r, 3000)); // closing connections finish on native threads
const after = await sample();
clearInterval(ticker);

// The star joins some 40 clients a second, each one connection on the server (a mesh soak joins a
// few a second, each several connections): per join, warm-up and leaks are that much smaller, so
// the plateau is where RSS rises by at most 2 KiB per join (soak/_rss.ts's default, 24, took the
// whole warm-up of a fast run for flat). The leak bounds are _rss.ts's defaults.
const rss = judgeRss(samples, { minutes: MINUTES, plateauKiBPerJoin: 2 });
// The JavaScript heap between the quiet points (0 peers at both): a per-join leak of JS objects
// shows here first.
const heapKiBPerJoin = quiet.length === 2 && quiet[1].joins > quiet[0].joins
  ? +((quiet[1].heapKiB - quiet[0].heapKiB) / (quiet[1].joins - quiet[0].joins)).toFixed(3)
  : NaN;
const during = samples.slice(1);
const maxThreads = Math.max(...during.map((s) => s.threads));
const firstMinuteThreads = Math.max(
  ...during.filter((s) => s.atMs <= 60_000).map((s) => s.threads),
);
const problems: string[] = [];
if (cycles.failed > 0) problems.push(`${cycles.failed} cycles failed`);
if (!rss.ok) problems.push(rss.reason);
// A run shorter than 5 minutes has its first quiet point inside the warm-up (JIT code, pools):
// its heap slope is shown, not judged, as soak/_rss.ts does with RSS.
const heapJudged = MINUTES >= 5;
if (heapJudged && heapKiBPerJoin > MAX_HEAP_KIB_PER_JOIN) {
  problems.push(`heap grew ${heapKiBPerJoin} KiB per join (bound ${MAX_HEAP_KIB_PER_JOIN})`);
}
if (after.peers !== 0 || server.getPeers().size !== 0) {
  problems.push(`${server.getPeers().size} peers still held after everyone left`);
}
if (after.fds > before.fds + Number(args["max-fds"])) {
  problems.push(`fds ${before.fds} before, ${after.fds} after everyone left`);
}
if (after.threads > firstMinuteThreads) {
  problems.push(`threads ${after.threads} after everyone left > ${firstMinuteThreads} in minute 1`);
}
const report = {
  minutes: MINUTES,
  clients: CLIENTS,
  joins,
  cycles: { ok: cycles.ok, failed: cycles.failed, reasons: Object.fromEntries(cycles.reasons) },
  hellos,
  ticks: seq,
  rss,
  heapKiBPerJoin,
  quiet,
  before,
  after,
  threads: { firstMinute: firstMinuteThreads, max: maxThreads, after: after.threads },
  loadavg: Deno.readTextFileSync("/proc/loadavg").trim(),
  ok: problems.length === 0,
  problems,
  samples,
};
console.log(
  `star soak ${MINUTES} min, ${CLIENTS} clients: ${joins} joins (${cycles.ok} cycles ok, ${cycles.failed} failed), ` +
    `${hellos} hellos, ${seq} ticks\n  RSS: ${rss.reason}\n  heap: ${heapKiBPerJoin} KiB/join between the quiet points${
      heapJudged ? "" : ", not judged (under 5 minutes)"
    } (${
      quiet.map((q) => `${q.heapKiB} KiB at join ${q.joins}`).join(", ")
    })\n  fds ${before.fds} before, ${after.fds} after; ` +
    `threads ${before.threads} before, ${firstMinuteThreads} in minute 1, max ${maxThreads}, ${after.threads} after\n  ` +
    (problems.length ? `FAILED: ${problems.join("; ")}` : "passed"),
);
if (args.json) Deno.writeTextFileSync(args.json, JSON.stringify(report, null, 2) + "\n");
await host.close();
await server.whenClosed();
await signaling.shutdown();
Deno.exit(problems.length ? 1 : 0);

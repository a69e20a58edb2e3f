/**
 * One stack's benchmarks, run by `deno task bench` (bench/main.ts) in a process of its own with
 * `MESH_STACK` set: the mesh's cost against the raw stack, measured side by side in this one
 * process, plus crash detection. Prints a table and writes the results as JSON.
 *
 * ```sh
 * MESH_STACK=wrtc deno run -A bench/_run.ts --out bench/results/stack-wrtc.json [--quick]
 * ```
 *
 * @module
 */
import {
  broadcast,
  type Formation,
  formMesh,
  formRaw,
  latency,
  type Rate,
  type Rtts,
  throughput,
} from "./_cases.ts";
import { crashDetection } from "./_crash.ts";
import { reducerRate, routeCost } from "./_reducer.ts";
import { sceneCosts } from "./_scene.ts";
import { starMesh, starRaw, type StarRun, TICK_HZ } from "./_star.ts";
import { STACK } from "../tests/_stack.ts";
import { fmt, type FormationSeries, median, quantile, type Row, textTable } from "./_report.ts";

/** A difference in µs with its sign: "+3.2 µs", "-1.0 µs". */
const signedUs = (d: number) => `${d >= 0 ? "+" : ""}${fmt(d, 1)} µs`;

const quick = Deno.args.includes("--quick");
const out = Deno.args.includes("--out") ? Deno.args[Deno.args.indexOf("--out") + 1] : undefined;
/** The configuration of a full and of a quick run (also read by bench/main.ts for the page). */
export const CONFIGS = {
  quick: {
    seconds: 1,
    rounds: 2,
    rtts: 1000,
    blocks: 2,
    ns: [2, 4, 8],
    runs: 3,
    cpuMs: 300,
    crashRuns: 0,
    star: [8],
    starRuns: 1,
  },
  full: {
    seconds: 5,
    rounds: 3,
    rtts: 10000,
    blocks: 5,
    ns: [2, 4, 8, 16],
    runs: 5,
    cpuMs: 2000,
    crashRuns: 3,
    star: [8, 32, 64],
    starRuns: 3,
  },
};
const cfg = quick ? CONFIGS.quick : CONFIGS.full;
/** The formation sizes measured. */
const ns = cfg.ns;
const SIZE = 1200;
const PING = 32;
const FANOUT = 7;

const root = new URL("../", import.meta.url);
const log = (s: string) => console.error(`[bench ${STACK}] ${s}`);
const started = performance.now();

const rows: Row[] = [];
const json: Record<string, unknown> = {
  stack: STACK,
  quick,
  config: cfg,
  startedAt: new Date().toISOString(),
};
const medRate = (rs: Rate[]) => ({
  msgsPerSec: median(rs.map((r) => r.msgsPerSec)),
  mbPerSec: median(rs.map((r) => r.mbPerSec)),
});

// 1. Throughput
log(`throughput: ${SIZE} B, reliable, ${cfg.seconds} s x ${cfg.rounds} rounds per side`);
{
  const t = await throughput(cfg.seconds, SIZE, cfg.rounds);
  const raw = medRate(t.raw);
  const packets = medRate(t.packets);
  const drain = medRate(t.drain);
  const best = packets.msgsPerSec >= drain.msgsPerSec ? "packets" : "drain";
  const mesh = best === "packets" ? packets : drain;
  json.throughput = { raw: t.raw, packets: t.packets, drain: t.drain, best };
  const ratio = mesh.msgsPerSec / raw.msgsPerSec;
  rows.push({
    name: `throughput msgs/s (mesh via ${best}())`,
    raw: fmt(raw.msgsPerSec),
    mesh: fmt(mesh.msgsPerSec),
    ratio: fmt(ratio, 3),
    target: ">= 0.97",
    met: ratio >= 0.97,
  });
  rows.push({
    name: "throughput MB/s",
    raw: fmt(raw.mbPerSec, 1),
    mesh: fmt(mesh.mbPerSec, 1),
    ratio: fmt(mesh.mbPerSec / raw.mbPerSec, 3),
    target: "",
  });
  const other = best === "packets" ? drain : packets;
  rows.push({
    name: `throughput msgs/s (mesh via ${best === "packets" ? "drain" : "packets"}())`,
    raw: fmt(raw.msgsPerSec),
    mesh: fmt(other.msgsPerSec),
    ratio: fmt(other.msgsPerSec / raw.msgsPerSec, 3),
    target: "",
  });
}

// 2. Latency
for (const [index, name] of [[0, "reliable"], [2, "unreliable"]] as const) {
  log(`latency: ${PING} B ping-pong, ${cfg.rtts} round trips per side, ${name}`);
  const l = await latency(cfg.rtts, PING, index, cfg.blocks);
  const p50 = (r: Rtts) => quantile(r.us, 0.5);
  const best = p50(l.packets) <= p50(l.drain) ? "packets" : "drain";
  const mesh = l[best];
  const stats = (r: Rtts) => ({
    p50: quantile(r.us, 0.5),
    p99: quantile(r.us, 0.99),
    max: Math.max(...r.us),
    n: r.us.length,
    lost: r.lost,
  });
  json[`latency_${name}`] = {
    raw: stats(l.raw),
    packets: stats(l.packets),
    drain: stats(l.drain),
    best,
  };
  const d = p50(mesh) - p50(l.raw);
  rows.push({
    name: `RTT p50 µs ${name} (mesh via ${best}())`,
    raw: fmt(p50(l.raw), 1),
    mesh: fmt(p50(mesh), 1),
    ratio: signedUs(d),
    target: "<= raw + 15 µs",
    met: d <= 15,
  });
  rows.push({
    name: `RTT p99 µs ${name}`,
    raw: fmt(quantile(l.raw.us, 0.99), 1),
    mesh: fmt(quantile(mesh.us, 0.99), 1),
    ratio: fmt(quantile(mesh.us, 0.99) / quantile(l.raw.us, 0.99), 3),
    target: "",
  });
  rows.push({
    name: `RTT max µs ${name}`,
    raw: fmt(Math.max(...l.raw.us), 0),
    mesh: fmt(Math.max(...mesh.us), 0),
    ratio: fmt(Math.max(...mesh.us) / Math.max(...l.raw.us), 3),
    target: "",
  });
  const other = best === "packets" ? l.drain : l.packets;
  rows.push({
    name: `RTT p50 µs ${name} (mesh via ${best === "packets" ? "drain" : "packets"}())`,
    raw: fmt(p50(l.raw), 1),
    mesh: fmt(p50(other), 1),
    ratio: signedUs(p50(other) - p50(l.raw)),
    target: "",
  });
}

// 3. Broadcast fan-out
log(`broadcast: 1 -> ${FANOUT}, ${SIZE} B, ${cfg.seconds} s x ${cfg.rounds} rounds per side`);
{
  const b = await broadcast(FANOUT, cfg.seconds, SIZE, cfg.rounds);
  const raw = medRate(b.raw);
  const mesh = medRate(b.mesh);
  json.broadcast = b;
  const ratio = mesh.msgsPerSec / raw.msgsPerSec;
  rows.push({
    name: `broadcast 1->${FANOUT} delivered msgs/s`,
    raw: fmt(raw.msgsPerSec),
    mesh: fmt(mesh.msgsPerSec),
    ratio: fmt(ratio, 3),
    target: ">= 0.9",
    met: ratio >= 0.9,
  });
}

// 4. Formation
/**
 * Runs one formation again when libdatachannel refuses an answer with "Got a remote candidate
 * without ICE transport", a race of the stack under load that hits raw and mesh alike (see
 * BENCHMARKS.md); counted in the output. Any other error ends the benchmark.
 */
let redone = 0;
async function redoOnStackRace<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("without ICE transport")) throw error;
      redone++;
      log(`formation run redone (libdatachannel refused an answer: ${error})`);
    }
  }
}
const series: FormationSeries[] = [];
{
  const formation: Record<number, { raw: Formation[]; mesh: Formation[] }> = {};
  for (const n of ns) {
    log(`formation: N = ${n}, ${cfg.runs} runs per side`);
    const raw: Formation[] = [];
    const mesh: Formation[] = [];
    for (let r = 0; r < cfg.runs; r++) {
      if (r % 2 === 0) {
        raw.push(await redoOnStackRace(() => formRaw(n)));
        mesh.push(await redoOnStackRace(() => formMesh(n)));
      } else {
        mesh.push(await redoOnStackRace(() => formMesh(n)));
        raw.push(await redoOnStackRace(() => formRaw(n)));
      }
    }
    formation[n] = { raw, mesh };
    const s = {
      n,
      rawMedian: median(raw.map((f) => f.ms)),
      rawMax: Math.max(...raw.map((f) => f.ms)),
      meshMedian: median(mesh.map((f) => f.ms)),
      meshMax: Math.max(...mesh.map((f) => f.ms)),
    };
    series.push(s);
    const last = n === ns[ns.length - 1];
    const slow = mesh.filter((f) => f.ms >= 900).length;
    const ratio = s.meshMedian / s.rawMedian;
    rows.push({
      name: `formation N=${n} ms median (max)`,
      raw: `${fmt(s.rawMedian)} (${fmt(s.rawMax)})`,
      mesh: `${fmt(s.meshMedian)} (${fmt(s.meshMax)})`,
      ratio: fmt(ratio, 3),
      target: last ? "<= 1.0, no 1 s runs" : "<= 1.0",
      met: ratio <= 1.0 && (!last || slow === 0),
    });
    const over = (fs: Formation[]) => fs.flatMap((f) => f.pairMs).filter((ms) => ms > 500).length;
    const pairs = mesh.reduce((sum, f) => sum + f.pairMs.length, 0);
    rows.push({
      name: `formation N=${n} pairs over 500 ms (of ${pairs})`,
      raw: fmt(over(raw)),
      mesh: fmt(over(mesh)),
      ratio: "",
      target: "",
    });
  }
  json.formation = formation;
  json.formationRunsRedone = redone;
  const n = ns[ns.length - 1];
  const perConn = (fs: Formation[]) => median(fs.map((f) => f.rssPerConnection));
  const rawRss = perConn(formation[n].raw);
  const meshRss = perConn(formation[n].mesh);
  rows.push({
    name: `RSS per connection KB (N=${n})`,
    raw: fmt(rawRss / 1024),
    mesh: fmt(meshRss / 1024),
    ratio: fmt(meshRss / rawRss, 2),
    target: "<= 2048 KB",
    met: meshRss <= 2 * 1024 * 1024,
  });
}

// 4b. Star: a Godot 4 server and N clients
const STATE_SIZE = 200;
{
  const star: Record<number, { raw: StarRun[]; mesh: StarRun[] }> = {};
  for (const n of cfg.star) {
    log(
      `star: server + ${n} clients, ${TICK_HZ} Hz ${STATE_SIZE} B state broadcast for ${cfg.seconds} s, ${cfg.starRuns} runs per side`,
    );
    const raw: StarRun[] = [];
    const mesh: StarRun[] = [];
    for (let r = 0; r < cfg.starRuns; r++) {
      const sides = [
        async () => raw.push(await redoOnStackRace(() => starRaw(n, cfg.seconds, STATE_SIZE))),
        async () => mesh.push(await redoOnStackRace(() => starMesh(n, cfg.seconds, STATE_SIZE))),
      ];
      if (r % 2 === 1) sides.reverse();
      for (const side of sides) await side();
    }
    star[n] = { raw, mesh };
    const formation = (rs: StarRun[]) => median(rs.map((x) => x.formationMs));
    const cpu = (rs: StarRun[]) => median(rs.map((x) => x.cpuUsPerClientSec));
    const lost = (rs: StarRun[]) => rs.reduce((k, x) => k + x.expected - x.delivered, 0);
    rows.push({
      name: `star N=${n} formation ms median`,
      raw: fmt(formation(raw)),
      mesh: fmt(formation(mesh)),
      ratio: fmt(formation(mesh) / formation(raw), 3),
      target: "",
    });
    const ratio = cpu(mesh) / cpu(raw);
    rows.push({
      name: `star N=${n} ${TICK_HZ} Hz broadcast CPU µs/client/s (lost)`,
      raw: `${fmt(cpu(raw))} (${lost(raw)})`,
      mesh: `${fmt(cpu(mesh))} (${lost(mesh)})`,
      ratio: fmt(ratio, 3),
      target: "<= 1.25, none lost",
      met: ratio <= 1.25 && lost(mesh) === 0,
    });
  }
  json.star = star;
}

// 5. Crash detection
if (cfg.crashRuns > 0) {
  for (const liveness of [false, true]) {
    const how = liveness ? "with liveness" : "stack alone";
    log(`crash detection (${how}): SIGKILL of a peer process, ${cfg.crashRuns} runs`);
    const seconds = await crashDetection(cfg.crashRuns, liveness);
    json[liveness ? "crashDetectionLivenessSeconds" : "crashDetectionSeconds"] = seconds;
    rows.push({
      name: `crash detection s (${how}), SIGKILL -> peer_disconnected median (max)`,
      raw: "",
      mesh: `${fmt(median(seconds), 1)} (${fmt(Math.max(...seconds), 1)})`,
      ratio: "",
      target: liveness ? "<= 3.5" : "",
      met: liveness ? Math.max(...seconds) <= 3.5 : undefined,
    });
  }
}

// 6. Reducer
log("reducer");
{
  const r = reducerRate(7, cfg.cpuMs);
  const route1 = routeCost(1, cfg.cpuMs / 2);
  const route7 = routeCost(7, cfg.cpuMs / 2);
  json.reducer = { eventsPerSec: r.eventsPerSec, routeNs1: route1, routeNs7: route7 };
  rows.push({
    name: "reducer events/s (8-peer session stream)",
    raw: "",
    mesh: fmt(r.eventsPerSec),
    ratio: "",
    target: ">= 2,000,000",
    met: r.eventsPerSec >= 2_000_000,
  });
  rows.push({
    name: "route+admit ns/packet (1 peer / 7 peers)",
    raw: "",
    mesh: `${fmt(route1)} / ${fmt(route7)}`,
    ratio: "",
    target: "",
  });
}

// 6b. SceneMultiplayer (pure rules: sender + receiver reducers per packet)
log("scene multiplayer");
{
  const costs = [64, 1024].map((size) => sceneCosts(size, cfg.cpuMs / 4));
  json.scene = costs;
  for (const c of costs) {
    rows.push({
      name: `scene RPC µs/packet, ${c.size} B: one PackedByteArray (raw: sendBytes)`,
      raw: fmt(c.bytesUs, 2),
      mesh: fmt(c.rpcBytesUs, 2),
      ratio: fmt(c.rpcBytesUs / c.bytesUs, 2),
      target: "",
    });
    rows.push({
      name: `scene RPC µs/packet, ${c.size} B: int, float, Vector2, String (raw: sendBytes)`,
      raw: fmt(c.bytesUs, 2),
      mesh: fmt(c.rpcMixedUs, 2),
      ratio: fmt(c.rpcMixedUs / c.bytesUs, 2),
      target: "",
    });
    rows.push({
      name: `scene relay µs/packet, ${c.size} B: client->server->client (raw: direct)`,
      raw: fmt(c.bytesUs, 2),
      mesh: fmt(c.relayUs, 2),
      ratio: fmt(c.relayUs / c.bytesUs, 2),
      target: "",
    });
  }
}

// 7. Output
console.log(textTable(rows));
const elapsed = (performance.now() - started) / 1000;
json.rows = rows;
json.series = series;
json.elapsedSeconds = elapsed;
json.machine = await machine();
if (out !== undefined) await Deno.writeTextFile(out, JSON.stringify(json, null, 2) + "\n");
log(`done in ${fmt(elapsed, 1)} s`);

async function machine(): Promise<Record<string, unknown>> {
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = info.match(/model name\s*:\s*(.+)/)?.[1] ?? cpu;
  } catch { /* not Linux */ }
  const version = async (pkg: string) => {
    try {
      const file = new URL(`node_modules/${pkg}/package.json`, root);
      return JSON.parse(await Deno.readTextFile(file)).version as string;
    } catch {
      return "unknown"; // not installed there
    }
  };
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    nodeDatachannel: await version("node-datachannel"),
    wrtc: await version("@roamhq/wrtc"),
  };
}

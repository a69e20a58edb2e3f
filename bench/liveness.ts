/**
 * `deno task bench:liveness [--runs N] [--raw-runs N]`: how long until a peer killed with SIGKILL
 * is `peer_disconnected`, with liveness (default settings) and with the raw stack alone
 * (`liveness: false`: node-datachannel's SCTP abort or ICE consent), per runtime pair. The survivor
 * is this Deno process; the killed peer runs in Deno or in Node. Writes `bench/results/liveness.md`
 * and `.json`; `deno task bench` copies the table into BENCHMARKS.md.
 *
 * @module
 */
import { WebRTCMultiplayer } from "../effects/multiplayer.ts";
import { type Runtime, spawnPeer } from "../tests/liveness/_spawn.ts";
import { fmt, median } from "./_report.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const RUNS = arg("--runs", 10);
const RAW_RUNS = arg("--raw-runs", 3);
const log = (s: string) => console.error(`[bench:liveness] ${s}`);

/** One kill: ms from SIGKILL to `peer_disconnected`. */
async function once(runtime: Runtime, mode: "idle" | "busy", liveness: boolean): Promise<number> {
  const mesh = new WebRTCMultiplayer({
    highWaterMark: 1 << 20,
    liveness: liveness ? undefined : false,
  });
  mesh.initialize(1);
  const child = await spawnPeer(mesh, 1, 2, runtime, mode, liveness ? {} : { LIVENESS: "off" });
  try {
    await child.connected;
    while (mesh.getPeer(2)?.connected !== true) await new Promise((r) => setTimeout(r, 5));
    if (liveness) {
      while (mesh.stats().peers.get(2)?.departure !== "beacons") {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    // A random phase of the beats, and (busy) traffic in flight from our side too.
    await new Promise((r) => setTimeout(r, 500 + Math.random() * 1000));
    let sending = mode === "busy";
    const payload = new Uint8Array(4096);
    const loop = (async () => {
      while (sending) {
        mesh.putPacket(payload);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const gone = new Promise<number>((r) =>
      mesh.addEventListener("peer_disconnected", () => r(performance.now()))
    );
    const killed = performance.now();
    child.process.kill("SIGKILL");
    await child.process.status;
    const ms = (await gone) - killed;
    sending = false;
    await loop;
    return ms;
  } finally {
    mesh.close();
    await mesh.whenClosed();
    await child.stderr;
  }
}

interface Line {
  pair: string;
  mode: string;
  liveness: number[];
  raw: number[];
}

const lines: Line[] = [];
for (const runtime of ["deno", "node"] as const) {
  for (const mode of ["busy", "idle"] as const) {
    const pair = `Deno survivor / ${runtime === "deno" ? "Deno" : "Node"} peer killed`;
    const line: Line = { pair, mode, liveness: [], raw: [] };
    for (let i = 0; i < RUNS; i++) line.liveness.push(await once(runtime, mode, true));
    log(`${pair}, ${mode}: liveness ${line.liveness.map((m) => m.toFixed(0)).join(" ")} ms`);
    // The raw stack is the same libdatachannel in both runtimes: measured once, on the Deno pair.
    if (runtime === "deno") {
      for (let i = 0; i < RAW_RUNS; i++) line.raw.push(await once(runtime, mode, false));
      log(`${pair}, ${mode}: raw ${line.raw.map((m) => m.toFixed(0)).join(" ")} ms`);
    }
    lines.push(line);
  }
}

const cell = (xs: number[]) =>
  xs.length === 0
    ? "(same stack as above)"
    : `${fmt(median(xs) / 1000, 2)} s / ${fmt(Math.max(...xs) / 1000, 2)} s (n=${xs.length})`;
const md = [
  "## Departure detection (SIGKILL, loopback)",
  "",
  "`deno task bench:liveness`: ms from SIGKILL of the peer's process to `peer_disconnected` on the",
  "survivor, median / max. Liveness with its defaults (timeout 3000 ms, beats every 500 ms) against",
  "the raw stack alone (`liveness: false`: SCTP abort with traffic in flight, ICE consent when",
  "idle). See docs/liveness.md.",
  "",
  "| pair | traffic | liveness median / max | raw stack median / max |",
  "|---|---|---|---|",
  ...lines.map((l) => `| ${l.pair} | ${l.mode} | ${cell(l.liveness)} | ${cell(l.raw)} |`),
  "",
].join("\n");
console.log(md);
const results = new URL("./results/", import.meta.url);
await Deno.mkdir(results, { recursive: true });
await Deno.writeTextFile(new URL("liveness.md", results), md);
await Deno.writeTextFile(
  new URL("liveness.json", results),
  JSON.stringify({ runs: RUNS, rawRuns: RAW_RUNS, lines }, null, 2) + "\n",
);

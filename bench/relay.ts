/**
 * `deno task bench:relay [--quick] [--godot DIR] [--out FILE]`: the signaling servers' cost per
 * relayed frame and per idle socket, Deno server, Node server and a bare `ws` relay in one run
 * (`bench/_relay.ts`). `--godot DIR` adds a Godot 3 server started as `node server.js` in DIR,
 * listening on 127.0.0.1 at the port in env `PORT` (Godot's own demo server, patched only to
 * read that port and bind loopback; it never lives in this repo). Prints a table; writes the raw
 * results to `--out` (default `bench/results/relay.json`).
 *
 * @module
 */
import { idleSockets, loadAverage, ourTargets, relayOnce, type RelayTarget } from "./_relay.ts";
import { fmt } from "./_report.ts";

const args = Deno.args;
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const quick = args.includes("--quick");
const godot = flag("--godot");
const out = flag("--out") ?? new URL("./results/relay.json", import.meta.url).pathname;
const load = quick
  ? { lobbies: 20, rate: 100, seconds: 2 }
  : { lobbies: 100, rate: 100, seconds: 10 };
const idle = quick ? 1000 : 10000;

const targets: RelayTarget[] = await ourTargets(flag("--cpu-prof"));
if (godot !== undefined) {
  targets.push({
    name: "Godot demo server.js (ws 7)",
    cmd: "node",
    args: ["server.js"],
    cwd: godot,
    env: { PORT: "9097" },
    port: 9097,
    gc: false,
  });
}
const log = (s: string) => console.error(`[relay] ${s}`);
const relay = [];
for (const t of targets) {
  log(`${t.name}: ${load.lobbies} lobbies x ${load.rate} frames/s for ${load.seconds} s`);
  const r = await relayOnce(t, load);
  log(
    `  ${fmt(r.cpuUsPerFrame, 1)} µs CPU/frame, p50 ${fmt(r.p50Us)} µs, p99 ${fmt(r.p99Us)} µs, ` +
      `${r.relayed}/${r.sent} relayed, load ${r.load.join(" -> ")}`,
  );
  relay.push(r);
}
const idles = [];
if (!args.includes("--no-idle")) {
  for (const t of targets.filter((t) => t.gc)) {
    log(`${t.name}: ${idle} idle sockets`);
    const r = await idleSockets(t, idle, quick ? 2 : 5);
    log(
      `  ${fmt(r.bytesPerSocket)} B/socket, opened in ${fmt(r.openMs)} ms, idle CPU ` +
        `${fmt(r.idleCpuMsPerSec, 2)} ms/s, ${r.stillOpen} still open`,
    );
    idles.push(r);
  }
}
const result = { at: new Date().toISOString(), loadavg: loadAverage(), load, relay, idle: idles };
await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
log(`wrote ${out}`);

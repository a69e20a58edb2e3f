/**
 * `deno task bench:relay [--quick] [--godot DIR] [--before DIR] [--out FILE] [--only NAME]
 * [--no-idle] [--no-redis] [--lobbies N] [--seconds S] [--cpu-prof DIR] [--rounds N]
 * [--before-commit SHA] [--deno-tree NAME=DIR] [--report-only] [--alloc-only]`: the
 * signaling servers' cost per
 * relayed frame and per idle socket, Deno server, Node server, a bare `ws` relay and two Deno
 * instances sharing lobbies through Redis (hosts on one, guests on the other; `--no-redis` leaves
 * it out; it needs `redis-server`) in one run (`bench/_relay.ts`). `--godot DIR` adds a Godot 3
 * server started as `node server.js` in DIR,
 * listening on 127.0.0.1 at the port in env `PORT` (Godot's own demo server, patched only to
 * read that port and bind loopback; it never lives in this repo). `--before DIR` adds the Deno and
 * Node servers of an earlier source tree (an export of an earlier commit with `node_modules` linked)
 * to the same interleaved rounds, and writes their rows as `relay_before.json` beside `--out`
 * (`--before-commit` names the commit it was exported from, for the page).
 * Writes the raw results to `--out`
 * (default `bench/results/relay.json`); a full run with the default output also rewrites the
 * "Signaling relay" section of BENCHMARKS.md (before = `bench/results/relay_before.json`).
 * `--alloc-only` measures only what a relayed frame allocates (`bench/_relay_alloc.ts`, Deno and
 * Node, this tree and `--before`'s, `--before-commit` naming it), into
 * `bench/results/relay_alloc.json`, and rewrites the section from the saved results.
 *
 * @module
 */
import {
  allocation,
  beforeTargets,
  idleSockets,
  loadAverage,
  ourTargets,
  redisTarget,
  relayOnce,
  type RelayResult,
  type RelayTarget,
} from "./_relay.ts";
import { fmt } from "./_report.ts";
import { readAllocRun, readRelayRun, relaySection, withRelaySection } from "./_relay_report.ts";

const args = Deno.args;
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const quick = args.includes("--quick");
const log = (s: string) => console.error(`[relay] ${s}`);
const godot = flag("--godot");
const out = flag("--out") ?? new URL("./results/relay.json", import.meta.url).pathname;
const defaults = quick
  ? { lobbies: 20, rate: 100, seconds: 2 }
  : { lobbies: 100, rate: 100, seconds: 10 };
// `--lobbies N` / `--seconds S` override the load (a lighter one keeps every server out of
// backlog on a shared machine, so that latencies compare).
const load = {
  ...defaults,
  lobbies: Number(flag("--lobbies") ?? defaults.lobbies),
  seconds: Number(flag("--seconds") ?? defaults.seconds),
};
const idle = quick ? 1000 : 10000;

if (args.includes("--report-only")) {
  // Rewrites BENCHMARKS.md's section from the saved results, without measuring.
  const after = await readRelayRun("relay.json");
  if (after === undefined) throw new Error("no bench/results/relay.json yet");
  const page = new URL("../BENCHMARKS.md", import.meta.url);
  const section = relaySection(
    after,
    await readRelayRun("relay_before.json"),
    await readAllocRun(),
  );
  await Deno.writeTextFile(page, withRelaySection(await Deno.readTextFile(page), section));
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", page.pathname] }).output();
  Deno.exit(0);
}
const only = flag("--only");
const beforeDir = flag("--before");
if (args.includes("--alloc-only")) {
  // What a relayed frame allocates (`bench/_relay_alloc.ts`), this tree and `--before`'s; rewrites
  // BENCHMARKS.md's section from the saved results.
  const alloc = {
    at: new Date().toISOString(),
    beforeCommit: flag("--before-commit"),
    after: await allocation(),
    before: beforeDir === undefined ? undefined : await allocation(beforeDir),
  };
  const file = new URL("./results/relay_alloc.json", import.meta.url);
  await Deno.writeTextFile(file, JSON.stringify(alloc, null, 2) + "\n");
  log(`wrote ${file.pathname}: ${JSON.stringify(alloc)}`);
  const after = await readRelayRun("relay.json");
  if (after !== undefined) {
    const page = new URL("../BENCHMARKS.md", import.meta.url);
    const section = relaySection(after, await readRelayRun("relay_before.json"), alloc);
    await Deno.writeTextFile(page, withRelaySection(await Deno.readTextFile(page), section));
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", page.pathname] }).output();
  }
  Deno.exit(0);
}
const targets: RelayTarget[] = [
  ...await ourTargets(flag("--cpu-prof")),
  ...(beforeDir === undefined ? [] : await beforeTargets(beforeDir)),
  ...(args.includes("--no-redis") ? [] : [redisTarget()]),
].filter((t) => only === undefined || t.name.toLowerCase().includes(only.toLowerCase()));
// `--deno-tree NAME=DIR`: the Deno server of another source tree (an export, as for `--before`),
// as a row of its own named NAME: a candidate measured beside the others.
for (let i = args.indexOf("--deno-tree"); i >= 0; i = args.indexOf("--deno-tree", i + 1)) {
  const [name, dir] = args[i + 1].split("=");
  const tree = dir.endsWith("/") ? dir : `${dir}/`;
  targets.push({
    name,
    cmd: Deno.execPath(),
    args: ["run", "-A", "--v8-flags=--expose-gc", `${tree}bench/_relay_deno.ts`],
    cwd: tree,
    gc: true,
  });
}
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
// Rounds interleave the servers (Deno, Node, bare, Godot, Deno, ...) so that a change in the
// machine's load falls on all of them; each row is the round with the median CPU per frame.
const rounds = Number(flag("--rounds") ?? (quick ? 1 : 3));
const runs = new Map<string, RelayResult[]>(targets.map((t) => [t.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const t of targets) {
    log(
      `${t.name} (round ${round}/${rounds}): ${load.lobbies} lobbies x ${load.rate} frames/s for ` +
        `${load.seconds} s`,
    );
    const r = await relayOnce(t, load);
    log(
      `  ${fmt(r.cpuUsPerFrame, 1)} µs CPU/frame (${fmt(r.sysUsPerFrame ?? 0, 1)} system), p50 ${
        fmt(r.p50Us)
      } µs, p99 ${fmt(r.p99Us)} µs, ` +
        `${r.relayed}/${r.sent} relayed, ${fmt(r.joinsPerSec ?? 0)} joins/s, ` +
        `load ${r.load.join(" -> ")}`,
    );
    runs.get(t.name)!.push(r);
  }
}
const relay = targets.map((t) => {
  const all = [...runs.get(t.name)!].sort((a, b) => a.cpuUsPerFrame - b.cpuUsPerFrame);
  return { ...all[(all.length - 1) >> 1], rounds: all.map((r) => r.cpuUsPerFrame) };
});
const idles = [];
if (!args.includes("--no-idle")) {
  for (const t of targets.filter((t) => t.idle ?? t.gc)) {
    log(`${t.name}: ${idle} idle sockets`);
    // 35 s: long enough to take in the keep-alive pings (Node: every 10 s; Deno: 30 s idle).
    const r = await idleSockets(t, idle, quick ? 2 : 35);
    log(
      `  ${fmt(r.bytesPerSocket)} B/socket, opened in ${fmt(r.openMs)} ms, idle CPU ` +
        `${fmt(r.idleCpuMsPerSec, 2)} ms/s, ${r.stillOpen} still open`,
    );
    idles.push(r);
  }
}
const at = new Date().toISOString();
// With `--before`, the rows of the earlier tree are the before run (Godot's row, measured once,
// is in both), written beside the after run.
const BEFORE = / \(before\)$/;
const split = <T extends { name: string }>(rows: readonly T[], before: boolean) =>
  rows.flatMap((r) =>
    BEFORE.test(r.name)
      ? before ? [{ ...r, name: r.name.replace(BEFORE, "") }] : []
      : before && !/godot/i.test(r.name)
      ? []
      : [r]
  );
const result = {
  at,
  beforeCommit: beforeDir === undefined ? undefined : flag("--before-commit"),
  loadavg: loadAverage(),
  load,
  relay: split(relay, false),
  idle: split(idles, false),
};
await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
log(`wrote ${out}`);
const beforeOut = out.replace(/\.json$/, "_before.json");
if (beforeDir !== undefined) {
  const before = { ...result, relay: split(relay, true), idle: split(idles, true) };
  await Deno.writeTextFile(beforeOut, JSON.stringify(before, null, 2) + "\n");
  log(`wrote ${beforeOut}`);
}
if (flag("--out") === undefined && !quick && only === undefined) {
  // A full run with the default output is the page's relay section.
  const page = new URL("../BENCHMARKS.md", import.meta.url);
  const section = relaySection(
    result,
    await readRelayRun("relay_before.json"),
    await readAllocRun(),
  );
  await Deno.writeTextFile(page, withRelaySection(await Deno.readTextFile(page), section));
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", page.pathname, out] }).output();
  log(`updated ${page.pathname}`);
}

/**
 * The "Signaling across instances" section of BENCHMARKS.md (issue 13), from one run of the relay
 * benchmark (`bench/relay.ts`, which has the row "2 Deno instances through Redis" beside the Deno
 * server, the Node server and the bare `ws` relay, the floor):
 *
 * ```sh
 * deno run -A bench/relay.ts --out bench/results/relay_cluster.json
 * deno run -A bench/_cluster_report.ts bench/results/relay_cluster.json [more runs]  # the section
 * ```
 *
 * @module
 */
import type { IdleResult, RelayResult } from "./_relay.ts";
import type { RelayRun } from "./_relay_report.ts";
import { fmt } from "./_report.ts";

const FLOOR = /floor/i;
const REDIS = /redis/i;
const TITLE = "## Signaling across instances";

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`]
    .concat(rows.map(line)).join("\n");
}

/** Frames per second one core could relay at this CPU cost. */
const capacity = (r: RelayResult) => 1e6 / r.cpuUsPerFrame;

function relayTable(run: RelayRun): string {
  const floor = run.relay.find((r) => FLOOR.test(r.name));
  const rows = run.relay.filter((r) => !/godot/i.test(r.name)).map((r) => [
    r.name,
    fmt(capacity(r)),
    floor ? fmt(capacity(r) / capacity(floor), 2) : "",
    `${fmt(r.p50Us)} / ${fmt(r.p99Us)}`,
    `${r.relayed}/${r.sent}`,
    r.joinsPerSec === undefined ? "" : fmt(r.joinsPerSec),
    `${fmt(r.load[0], 1)}–${fmt(r.load[1], 1)}`,
  ]);
  return table([
    "server",
    "relay capacity frames/s/core",
    "vs floor",
    "latency p50 / p99 µs",
    "relayed",
    "joins/s",
    "load average",
  ], rows);
}

function added(run: RelayRun): string {
  const deno = run.relay.find((r) => r.name === "Deno server");
  const redis = run.relay.find((r) => REDIS.test(r.name));
  if (!deno || !redis) return "";
  const signed = (d: number) => `${d >= 0 ? "+" : "-"}${fmt(Math.abs(d))} µs`;
  return `\nThrough Redis against one Deno instance in this run: p50 ${
    signed(redis.p50Us - deno.p50Us)
  }, p99 ${signed(redis.p99Us - deno.p99Us)} (one pub/sub hop: guest -> instance 2 -> Redis -> ` +
    `instance 1 -> host; p99 on shared cores is mostly the machine's).\n`;
}

/**
 * The markdown section: one relay table per run (`runs[i]` read from `files[i]`; rows within a
 * table are one run, side by side), and the idle sockets of every run (the last run's row wins
 * for a server measured twice).
 */
export function clusterSection(runs: readonly RelayRun[], files: readonly string[]): string {
  const relays = runs.filter((r) => r.relay.length > 0).map((run) => {
    const i = runs.indexOf(run);
    return `Run ${run.at} (\`${files[i]}\`): ${run.load.lobbies} lobbies x ${run.load.rate} ` +
      `frames/s for ${run.load.seconds} s (${fmt(run.load.lobbies * run.load.rate)} frames/s ` +
      `in all).\n\n${relayTable(run)}\n${added(run)}`;
  });
  const idle = new Map<string, [IdleResult, string]>();
  runs.forEach((run, i) => run.idle.forEach((r) => idle.set(r.name, [r, files[i]])));
  const idleRow = ([r, file]: [IdleResult, string]) => [
    r.name,
    `${fmt(r.stillOpen)}/${fmt(r.sockets)}`,
    fmt(r.bytesPerSocket),
    fmt(r.sockets / (r.openMs / 1000)),
    fmt(r.idleCpuMsPerSec, 2),
    `\`${file.replace(/^.*\//, "")}\``,
  ];
  return `${TITLE} (issue 13)

\`deno task bench:relay\` (\`bench/relay.ts\`) has a fourth row beside the Deno server, the Node
server and the bare \`ws\` relay (the floor, \`bench/_relay_bare.ts\`: no lobby rules, same frames,
same load): two Deno instances in one process sharing lobbies through a \`redis-server\`
(\`bench/_relay_redis.ts\`), every host on the first, every guest on the second. Each server runs in
its own process, one after the other in one run; the load comes from one Deno process: lobbies of a
host and a guest (Godot 3 text protocol), each guest sending candidate frames to its host, paced.
"Relay capacity" is 10^6 / the server process's CPU µs per relayed frame (what one core could
relay at that cost; the load is paced, not pushed to saturation; the Redis row's CPU is both
instances', Redis's own is not counted); "vs floor" divides by the floor's. Latency is send to
arrival in the load process. joins/s: while the lobbies formed, 50 at a time. The machine (2 cores)
was shared with other helpers' jobs (1-minute load average shown): compare within a table,
not across tables or with other pages. A table whose p50 is in the hundreds of milliseconds is a
saturated run (a backlog in the load process or the server on the shared cores): its latencies
describe the machine's load, its CPU per frame still compares. A table with one row was run alone
(\`--only\`), so it has no floor to divide by. Regenerate with
\`deno run -A bench/_cluster_report.ts FILE...\`.

${relays.join("\n")}
Idle sockets: joined WebSockets (lobbies of 2) left idle; bytes per socket from the server's RSS
after a full GC; joins/s while opening them (100 lobbies at a time); the server's CPU while they
idle (the Redis row: two instances, their heartbeats, and the lobby keys held again every 10 s).

${
    table(
      ["server", "still open", "bytes/socket", "joins/s", "idle CPU ms/s", "from"],
      [...idle.values()].map(idleRow),
    )
  }
`;
}

/** Replaces (or appends) the section in BENCHMARKS.md's text. */
export function withClusterSection(page: string, section: string): string {
  const start = page.indexOf(TITLE);
  if (start < 0) return page.trimEnd() + "\n\n" + section;
  const next = page.indexOf("\n## ", start + 1);
  return page.slice(0, start) + section.trimEnd() + "\n" + (next < 0 ? "" : page.slice(next));
}

if (import.meta.main) {
  const files = Deno.args.length > 0 ? Deno.args : ["bench/results/relay_cluster.json"];
  const runs: RelayRun[] = [];
  for (const file of files) runs.push(JSON.parse(await Deno.readTextFile(file)));
  const page = new URL("../BENCHMARKS.md", import.meta.url);
  await Deno.writeTextFile(
    page,
    withClusterSection(await Deno.readTextFile(page), clusterSection(runs, files)),
  );
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", page.pathname] }).output();
  console.log(`updated ${page.pathname}`);
}

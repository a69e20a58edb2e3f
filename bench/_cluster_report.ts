/**
 * The "Signaling across instances" section of BENCHMARKS.md (issue 13), from one run of the relay
 * benchmark (`bench/relay.ts`, which has the row "2 Deno instances through Redis" beside the Deno
 * server, the Node server and the bare `ws` relay, the floor):
 *
 * ```sh
 * deno run -A bench/relay.ts --out bench/results/relay_cluster.json
 * deno run -A bench/_cluster_report.ts bench/results/relay_cluster.json   # rewrites the section
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

/** The markdown section for one run. */
export function clusterSection(run: RelayRun, source: string): string {
  const floor = run.relay.find((r) => FLOOR.test(r.name));
  const deno = run.relay.find((r) => r.name === "Deno server");
  const redis = run.relay.find((r) => REDIS.test(r.name));
  const rows = run.relay.filter((r) => !/godot/i.test(r.name)).map((r) => [
    r.name,
    fmt(capacity(r)),
    floor ? fmt(capacity(r) / capacity(floor), 2) : "",
    `${fmt(r.p50Us)} / ${fmt(r.p99Us)}`,
    `${r.relayed}/${r.sent}`,
    r.joinsPerSec === undefined ? "" : fmt(r.joinsPerSec),
    `${fmt(r.load[0], 1)}–${fmt(r.load[1], 1)}`,
  ]);
  const idleRow = (r: IdleResult) => [
    r.name,
    `${fmt(r.stillOpen)}/${fmt(r.sockets)}`,
    fmt(r.bytesPerSocket),
    fmt(r.sockets / (r.openMs / 1000)),
    fmt(r.idleCpuMsPerSec, 2),
  ];
  const added = deno && redis
    ? `Through Redis a relayed frame costs ${
      fmt(redis.p50Us - deno.p50Us)
    } µs more at the median ` +
      `and ${fmt(redis.p99Us - deno.p99Us)} µs more at p99 than on one Deno instance in the same ` +
      `run (one pub/sub hop: guest -> instance 2 -> Redis -> instance 1 -> host).`
    : "";
  return `${TITLE} (issue 13)

From \`${source}\`, one run of \`deno task bench:relay\` (${run.at}; every server in its own process,
one after the other, the load from one Deno process): ${run.load.lobbies} lobbies of a host and a
guest (Godot 3 text protocol), each guest sending ${run.load.rate} candidate frames/s to its host
for ${run.load.seconds} s, paced. "Relay capacity" is 10^6 / the server's CPU µs per relayed frame
(the frames one core could relay at that cost; the load itself is paced, not pushed to
saturation); "vs floor" divides by the bare \`ws\` relay's (\`bench/_relay_bare.ts\`: no lobby rules,
same frames, same load). The Redis row is two Deno instances in one process sharing lobbies
through a \`redis-server\` (\`bench/_relay_redis.ts\`): hosts join the first, guests the second; its
CPU is both instances' (Redis's own is not counted). Latency is send to arrival in the load
process. joins/s: while the lobbies formed, 50 at a time. The machine (2 cores) was shared with
other jobs (1-minute load average shown): take ratios within the run, not absolute numbers.

${
    table([
      "server",
      "relay capacity frames/s/core",
      "vs floor",
      "latency p50 / p99 µs",
      "relayed",
      "joins/s",
      "load average",
    ], rows)
  }

${added}

Idle sockets: joined WebSockets (lobbies of 2) left idle; bytes per socket from the server's RSS
after a full GC; joins/s while opening them (100 lobbies at a time); the server's CPU while they
idle (the Redis row includes its heartbeat, which re-claims every lobby each second).

${
    table(
      ["server", "still open", "bytes/socket", "joins/s", "idle CPU ms/s"],
      run.idle.map(idleRow),
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
  const file = Deno.args[0] ?? "bench/results/relay_cluster.json";
  const run: RelayRun = JSON.parse(await Deno.readTextFile(file));
  const page = new URL("../BENCHMARKS.md", import.meta.url);
  await Deno.writeTextFile(
    page,
    withClusterSection(await Deno.readTextFile(page), clusterSection(run, file)),
  );
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", page.pathname] }).output();
  console.log(`updated ${page.pathname}`);
}

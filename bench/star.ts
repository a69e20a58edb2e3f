/**
 * The star benchmark (issue 17): one server process, N clients spread over client processes (at
 * most `--per-process` each), 100-byte broadcasts at 20 Hz, unreliable and reliable, for this
 * library (`WebRTCMultiplayerPeer.createServer` through a Godot 4 client/server lobby) and for
 * geckos.io in the same run, interleaved per N and mode. Server CPU is read from
 * `/proc/<pid>/stat` (user + system), so it is CPU time, less sensitive to the machine's load than
 * wall time; the load average is recorded with every run.
 *
 * ```sh
 * deno task bench:star [--ns 16,32,64,128,256] [--seconds 10] [--modes unreliable,reliable]
 *                      [--impls ours,geckos,raw] [--per-process 32] [--write]
 *                      [--perf DIR [--perf-call-graph fp|dwarf] [--perf-freq 499]] [--syscalls]
 *                      [--sctp JSON] [--ice-mux] [--server-stack ndc|wrtc]
 *                      [--client-stack ndc|wrtc] [--no-liveness]
 * ```
 *
 * An impl ending in `@node` runs its server under Node (bundled by esbuild) instead of Deno:
 * `geckos@node` is geckos.io as its users run it, `ours@node` this library's npm form. Clients run
 * in Deno either way. `--sctp` gives node-datachannel's `setSctpSettings` to every process using
 * it (both servers, our clients), `--ice-mux` makes our server's connections share one UDP socket
 * (geckos.io's default), `--server-stack wrtc` runs our server on `@roamhq/wrtc`.
 * `--client-stack` puts both libraries' clients on one stack: `wrtc` (`@roamhq/wrtc`, libwebrtc,
 * which acknowledges SCTP data as browsers do) or `ndc` (node-datachannel; geckos.io's browser client
 * on its W3C polyfill). Without it each library's clients run on their usual stack: ours on
 * node-datachannel, geckos.io's on `@roamhq/wrtc`. The clients' stack is recorded with every result
 * ("clients" column), and the targets are judged per pairing of client stacks. `--no-liveness`
 * runs our server and clients without liveness (no beacon channel, no beats; geckos.io has
 * neither): what the beats cost, measured, not a setting the library would drop.
 *
 * `--write` stores `bench/results/star.json`, `star.svg` and `star.md` and rewrites the generated
 * part of the star section of BENCHMARKS.md (`--append`: after the stored results, for a table
 * measured in several invocations); `--render` does that again from the stored JSON without
 * measuring. `--perf DIR` records a perf profile of each server while it ticks. `--syscalls` counts
 * the server's datagrams out and in (`sendto`/`sendmsg`, `recvfrom`/`recvmsg` system calls),
 * `futex` calls and context switches while it ticks (`perf stat`), per delivered tick.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import { median } from "./_report.ts";
import { bundleForNode } from "./_relay.ts";
import { clientStackOf } from "./_star_proto.ts";
import {
  STAR_GENERATED_END,
  STAR_SECTION,
  type StarResult,
  starSvg,
  table,
  verdicts,
} from "./_star_report.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    ns: { type: "string", default: "16,32,64,128,256" },
    seconds: { type: "string", default: "10" },
    modes: { type: "string", default: "unreliable,reliable" },
    impls: { type: "string", default: "ours,geckos,raw" },
    "per-process": { type: "string", default: "32" },
    write: { type: "boolean", default: false },
    perf: { type: "string" },
    "perf-call-graph": { type: "string", default: "fp" },
    "perf-freq": { type: "string", default: "499" },
    syscalls: { type: "boolean", default: false },
    render: { type: "boolean", default: false },
    sctp: { type: "string" },
    "ice-mux": { type: "boolean", default: false },
    "server-stack": { type: "string", default: "ndc" },
    "client-stack": { type: "string" },
    "no-liveness": { type: "boolean", default: false },
    append: { type: "boolean", default: false },
  },
});
// Stack settings under test, for every process of every run (see `_star_proto.ts`).
const ENV: Record<string, string> = {
  ...(args.sctp ? { STAR_SCTP: JSON.stringify(JSON.parse(args.sctp)) } : {}),
  ...(args["ice-mux"] ? { STAR_ICE_MUX: "1" } : {}),
  STAR_STACK: args["server-stack"],
  ...(args["client-stack"] ? { STAR_CLIENT_STACK: args["client-stack"] } : {}),
  ...(args["no-liveness"] ? { STAR_NO_LIVENESS: "1" } : {}),
};
if (args["server-stack"] !== "ndc" && args["server-stack"] !== "wrtc") {
  throw new TypeError(`--server-stack: ndc or wrtc, not ${args["server-stack"]}`);
}
clientStackOf("ours", args["client-stack"]); // throws for a stack that is neither
/** What differs from the defaults in this invocation, recorded with every result. */
const SETTINGS = [
  args.sctp ? `sctp ${args.sctp}` : "",
  args["ice-mux"] ? "ice-mux" : "",
  args["server-stack"] !== "ndc" ? `our server on ${args["server-stack"]}` : "",
  args["no-liveness"] ? "ours without liveness" : "",
].filter(Boolean).join(", ");
const NS = args.ns.split(",").map(Number);
const SECONDS = Number(args.seconds);
const MODES = args.modes.split(",");
const IMPLS = args.impls.split(",");
const PER_PROCESS = Number(args["per-process"]);
const DENO = Deno.execPath();
const HERE = new URL(".", import.meta.url).pathname;

/** A child process speaking JSON lines on stdout and taking commands on stdin. */
class Proc {
  readonly child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  constructor(file: string, argv: string[], v8Flags: string[] = [], nodeBundle?: string) {
    this.child = new Deno.Command(nodeBundle ? "node" : DENO, {
      args: nodeBundle ? [...v8Flags, nodeBundle, ...argv] : [
        "run",
        "-A",
        ...(v8Flags.length ? [`--v8-flags=${v8Flags.join(",")}`] : []),
        HERE + file,
        ...argv,
      ],
      env: ENV,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      // V8's perf flags write logs into the working directory: keep them with the profiles.
      cwd: v8Flags.length ? args.perf : undefined,
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#writer.closed.catch(() => {});
    const stdout = this.child.stdout;
    (async () => {
      let rest = "";
      for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        let nl;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          if (line.startsWith("{")) this.#lines.push(line);
          else console.error(`[${file}] ${line}`);
          this.#waiters.splice(0).forEach((w) => w());
        }
      }
    })();
  }
  send(line: string): Promise<void> {
    // A child that died is reported by the missing answer (next() times out), not by a throw here.
    return this.#writer.write(new TextEncoder().encode(line + "\n")).catch(() => {});
  }
  /** The next JSON line that has `key`. */
  async next(key: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex((l) => key in JSON.parse(l));
      if (i >= 0) return JSON.parse(this.#lines.splice(i, 1)[0]);
      if (Date.now() > deadline) throw new Error(`no "${key}" line within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  }
  async stop(): Promise<void> {
    await this.send("quit").catch(() => {});
    const t = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await this.child.status;
    clearTimeout(t);
  }
}

/** CPU ms (user + system, USER_HZ = 100) of a process, or of one of its threads. */
function cpuMs(pid: number, tid?: number): number {
  const stat = Deno.readTextFileSync(
    tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
  );
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]);
}

function loadavg(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

/** From the last join until the ticks start, ms. */
const SETTLE_MS = 6000;

/** Packages a Node bundle of a server loads from node_modules. */
const NODE_EXTERNAL = [
  "node-datachannel",
  "@geckos.io/server",
  "@geckos.io/client",
  "@roamhq/wrtc",
];

let nextPort = 19_500 + Math.floor(Math.random() * 200);

async function runOne(
  impl: string,
  mode: string,
  n: number,
  signalingUrl: string,
): Promise<StarResult> {
  const load = loadavg();
  const port = String(nextPort++);
  const v8 = args.perf ? ["--perf-basic-prof"] : [];
  // "raw": our server and clients, the server sending with channel.send directly (the floor).
  const [base, runtime = "deno"] = impl.split("@");
  const ours = base !== "geckos";
  const serverFile = ours ? "_star_ours.ts" : "_star_geckos.ts";
  const bundle = runtime === "node"
    ? await bundleForNode(`bench/${serverFile}`, undefined, NODE_EXTERNAL)
    : undefined;
  const server = new Proc(
    serverFile,
    ours ? ["server", signalingUrl, mode, base] : ["server", port, mode],
    v8,
    bundle,
  );
  const clients: Proc[] = [];
  try {
    const { lobby } = await server.next("ready") as { lobby: string };
    await new Promise((r) => setTimeout(r, 1000));
    const rss0 = rssKiB(server.child.pid);
    const setupCpu0 = cpuMs(server.child.pid);
    for (let first = 0; first < n; first += PER_PROCESS) {
      const count = String(Math.min(PER_PROCESS, n - first));
      clients.push(
        ours
          ? new Proc("_star_ours.ts", ["client", signalingUrl, lobby, mode, String(first), count])
          : new Proc("_star_geckos.ts", ["client", port, mode, String(first), count]),
      );
    }
    const joins = (await Promise.all(clients.map((c) => c.next("joined", 180_000))))
      .flatMap((j) => j.joined as { ms: number; t0: number; t1: number; error?: string }[]);
    const setupCpu = cpuMs(server.child.pid) - setupCpu0;
    const ok = joins.filter((j) => j.ms >= 0);
    const errors = new Map<string, number>();
    for (const j of joins) if (j.error) errors.set(j.error, (errors.get(j.error) ?? 0) + 1);
    if (errors.size) console.error(`[star] failed joins: ${JSON.stringify([...errors])}`);
    // Steady state: every client past the liveness probe window (5 s), in which beats are never
    // skipped (core/liveness.ts L2), as on a server whose clients stay for minutes.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await server.send("connected");
    const connected = (await server.next("connected")).connected as number;
    const rss1 = rssKiB(server.child.pid);
    const pid = server.child.pid;
    const cpu0 = cpuMs(pid);
    const main0 = cpuMs(pid, pid);
    await server.send(`go ${SECONDS}`);
    // --perf DIR: a perf profile (native and JS frames) of the server while it ticks.
    const perf = args.perf
      ? new Deno.Command("perf", {
        args: [
          "record",
          "-F",
          args["perf-freq"],
          // fp: cheap, but chains break in code built without frame pointers (OpenSSL,
          // usrsctp); dwarf unwinds them (larger files).
          "--call-graph",
          args["perf-call-graph"],
          "-p",
          String(pid),
          "-o",
          `${args.perf}/perf-${impl}-${mode}-${n}.data`,
          "--",
          "sleep",
          String(SECONDS),
        ],
        stdout: "null",
        stderr: "null",
      }).output()
      : undefined;
    const SYSCALLS = ["sendto", "sendmsg", "recvfrom", "recvmsg", "futex"];
    const stat = args.syscalls
      ? new Deno.Command("perf", {
        args: [
          "stat",
          "-x",
          ",",
          "-e",
          [...SYSCALLS.map((c) => `syscalls:sys_enter_${c}`), "context-switches"].join(","),
          "-p",
          String(pid),
          "--",
          "sleep",
          String(SECONDS),
        ],
        stdout: "null",
        stderr: "piped",
      }).output()
      : undefined;
    const done = await server.next("done", SECONDS * 1000 + 60_000) as {
      sent: number;
      late: number;
      rtt: { p50: number; p99: number };
      putUs?: number;
    };
    const cpu1 = cpuMs(pid);
    const main1 = cpuMs(pid, pid);
    await perf;
    // perf stat -x, prints "count,unit,event,..." per event on stderr.
    const counts = new Map<string, number>();
    for (const line of new TextDecoder().decode((await stat)?.stderr).split("\n")) {
      const [count, , event] = line.split(",");
      if (event) counts.set(event.replace("syscalls:sys_enter_", ""), Number(count));
    }
    await Promise.all(clients.map((c) => c.send("report")));
    const received = (await Promise.all(clients.map((c) => c.next("received"))))
      .flatMap((r) => r.received as number[]);
    const delivered = received.reduce((a, b) => a + b, 0);
    const cpu = cpu1 - cpu0;
    return {
      impl: base,
      runtime,
      ...(SETTINGS ? { settings: SETTINGS } : {}),
      clientStack: clientStackOf(ours ? "ours" : "geckos", args["client-stack"]),
      mode,
      n,
      loadavg: load,
      connected,
      joinMedianMs: median(ok.map((j) => j.ms)),
      joinMaxMs: Math.max(...ok.map((j) => j.ms)),
      allConnectedMs: ok.length
        ? Math.max(...ok.map((j) => j.t1)) - Math.min(...joins.map((j) => j.t0))
        : NaN,
      failedJoins: joins.length - ok.length,
      ticksSent: done.sent,
      deliveredPct: (100 * delivered) / (done.sent * n),
      ticksPerClientPerSec: delivered / n / SECONDS,
      rttP50Ms: done.rtt.p50,
      rttP99Ms: done.rtt.p99,
      cpuMsPerSec: cpu / SECONDS,
      jsThreadPct: (100 * (main1 - main0)) / cpu,
      cpuUsPerDeliveredTick: delivered ? (cpu * 1000) / delivered : NaN,
      rssPerClientKiB: (rss1 - rss0) / n,
      setupCpuMs: setupCpu,
      late: done.late,
      putUsPerPeer: done.putUs ?? NaN,
      ...(stat && delivered
        ? {
          perTick: {
            send: ((counts.get("sendto") ?? 0) + (counts.get("sendmsg") ?? 0)) / delivered,
            recv: ((counts.get("recvfrom") ?? 0) + (counts.get("recvmsg") ?? 0)) / delivered,
            futex: (counts.get("futex") ?? 0) / delivered,
            cs: (counts.get("context-switches") ?? 0) / delivered,
          },
        }
        : {}),
    };
  } catch (error) {
    // Say whether the server died (and how), which is the usual cause of a lost run.
    const status = await Promise.race([
      server.child.status,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000)),
    ]);
    const died = status ? ` (server exited: code ${status.code}, signal ${status.signal})` : "";
    throw new Error(`${error}${died}`);
  } finally {
    await Promise.all([server, ...clients].map((p) => p.stop()));
  }
}

const dir = HERE + "results/";
let started = new Date();
let seconds = SECONDS;
let machine =
  `${navigator.hardwareConcurrency} cores, ${Deno.build.os} ${Deno.build.arch}; Deno ${Deno.version.deno}`;
let results: StarResult[] = [];
/** Runs that ended without a result (printed; the table holds only completed runs). */
const failures: string[] = [];
if (args.render) {
  // --render: the outputs again from the stored results, nothing measured.
  const stored = JSON.parse(Deno.readTextFileSync(dir + "star.json"));
  ({ seconds, machine, results } = stored);
  started = new Date(stored.started);
} else {
  if (args.append) {
    // --append: this invocation's results go after the stored ones (one table, several runs).
    const stored = JSON.parse(Deno.readTextFileSync(dir + "star.json"));
    results = stored.results;
    started = new Date(stored.started);
  }
  // A lobby holds 256 members by default, the host included: N = 256 clients need one more.
  const signaling = await serveSignalingDeno({
    port: 0,
    limits: { maxLobbyPeers: Math.max(...NS) + 1 },
  });
  let flip = false;
  for (const n of NS) {
    for (const mode of MODES) {
      const order = flip ? [...IMPLS].reverse() : IMPLS;
      flip = !flip;
      for (const impl of order) {
        console.error(`[star] ${impl} ${mode} N=${n} (load ${loadavg()})`);
        try {
          const r = { ...await runOne(impl, mode, n, signaling.url), at: new Date().toISOString() };
          console.error(`[star] ${JSON.stringify(r)}`);
          results.push(r);
        } catch (error) {
          // A server that died (geckos.io's once segfaulted in node_datachannel.node while 128
          // clients joined) loses its run, not the others: said here, and absent from the table.
          console.error(`[star] FAILED ${impl} ${mode} N=${n}: ${error}`);
          failures.push(`${impl} ${mode} N=${n}: ${error}`);
        }
      }
    }
  }
  await signaling.shutdown();
}
console.log(table(results));
console.log(verdicts(results).join("\n"));
if (failures.length) console.log(`Failed runs:\n${failures.map((f) => `- ${f}`).join("\n")}`);
if (args.write || args.render) {
  if (!args.render) {
    Deno.writeTextFileSync(
      dir + "star.json",
      JSON.stringify({ started, seconds, machine, results }, null, 2) + "\n",
    );
  }
  Deno.writeTextFileSync(dir + "star.svg", starSvg(results));
  Deno.writeTextFileSync(
    dir + "star.md",
    `Run: ${started.toISOString()}, ${seconds} s of ticks per run. Machine: ${machine}.\n\n${
      table(results)
    }\n\n${verdicts(results).join("\n")}\n`,
  );
  // BENCHMARKS.md: the star section's generated part is replaced, the notes after it are kept.
  const md = HERE + "../BENCHMARKS.md";
  const page = Deno.readTextFileSync(md);
  const at = page.indexOf(STAR_SECTION);
  const end = page.indexOf(STAR_GENERATED_END);
  const notes = at >= 0 && end > at ? page.slice(end + STAR_GENERATED_END.length) : "\n";
  Deno.writeTextFileSync(
    md,
    (at >= 0 ? page.slice(0, at) : page + "\n") + STAR_SECTION + "\n\n" +
      `Generated by \`deno task bench:star\` (\`bench/star.ts\`); raw data ` +
      "`bench/results/star.json`.\n\n" + Deno.readTextFileSync(dir + "star.md") +
      "\n![server CPU per delivered tick vs N](bench/results/star.svg)\n\n" +
      STAR_GENERATED_END + notes,
  );
  // Keep the outputs in the repository's format (`deno fmt --check` is part of the tests).
  const outputs = ["star.json", "star.md", "star.svg"].map((f) => dir + f);
  await new Deno.Command(DENO, { args: ["fmt", "-q", ...outputs, md] }).output();
}
Deno.exit(0);

/**
 * The star benchmark's report (`bench/star.ts`): its results, their table, the issue's targets
 * judged on them, and the plot of server CPU per delivered tick against N, per library and mode.
 *
 * @module
 */
import { fmt } from "./_report.ts";
import { clientStackOf, TICK_HZ } from "./_star_proto.ts";

/** The heading of the star section of BENCHMARKS.md (`bench/star.ts --write` rewrites it). */
export const STAR_SECTION = "## Star: one server, many clients, against geckos.io";

/** Marks the end of the generated part of the star section (hand-written notes follow). */
export const STAR_GENERATED_END = "<!-- end of the generated star results -->";

/** The fields of a star result the plot reads. */
export interface StarPoint {
  readonly impl: string;
  readonly mode: string;
  readonly n: number;
  readonly cpuUsPerDeliveredTick: number;
  readonly runtime?: string;
  readonly settings?: string;
  /** The clients' stack when `--client-stack` chose it; absent: each library's usual one. */
  readonly clientStack?: string;
}

/** Whether a result's clients ran on their library's usual stack (ours ndc, geckos.io wrtc). */
export function usualClients(r: StarPoint): boolean {
  return r.clientStack === undefined || r.clientStack === (r.impl === "geckos" ? "wrtc" : "ndc");
}

const COLORS: Record<string, string> = {
  "ours unreliable": "#1565c0",
  "ours reliable": "#2e7d32",
  "geckos unreliable": "#c62828",
  "geckos reliable": "#ef6c00",
  "ours@node unreliable": "#64b5f6",
  "geckos@node unreliable": "#f48fb1",
};

/** A result's line: impl, `@node` for a server on Node, and mode. */
const lineOf = (r: StarPoint) => `${r.impl}${r.runtime === "node" ? "@node" : ""} ${r.mode}`;

/** An SVG line plot (log-scale N) of server µs per delivered tick. */
export function starSvg(results: readonly StarPoint[]): string {
  const W = 640, H = 400, L = 64, R = 24, T = 40, B = 56;
  const ns = [...new Set(results.map((r) => r.n))].sort((a, b) => a - b);
  const ymax = Math.max(10, ...results.map((r) => r.cpuUsPerDeliveredTick || 0)) * 1.1;
  const x = (n: number) =>
    L + (ns.length === 1 ? 0.5 : ns.indexOf(n) / (ns.length - 1)) * (W - L - R);
  const y = (v: number) => T + (1 - v / ymax) * (H - T - B);
  const parts: string[] = [];
  const step = ymax > 500 ? 200 : ymax > 200 ? 50 : ymax > 100 ? 25 : 10;
  for (let v = 0; v <= ymax; v += step) {
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${
        y(v).toFixed(1)
      }" stroke="#ddd"/>`,
      `<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  for (const n of ns) {
    parts.push(`<text x="${x(n).toFixed(1)}" y="${H - B + 18}" text-anchor="middle">${n}</text>`);
  }
  let legend = 0;
  for (const [key, color] of Object.entries(COLORS)) {
    const pts = results.filter((r) =>
      lineOf(r) === key && r.settings === undefined && usualClients(r) &&
      r.cpuUsPerDeliveredTick > 0
    )
      .sort((a, b) => a.n - b.n);
    if (pts.length === 0) continue;
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${
        pts.map((p) => `${x(p.n).toFixed(1)},${y(p.cpuUsPerDeliveredTick).toFixed(1)}`).join(" ")
      }"/>`,
      ...pts.map((p) =>
        `<circle cx="${x(p.n).toFixed(1)}" cy="${
          y(p.cpuUsPerDeliveredTick).toFixed(1)
        }" r="3.5" fill="${color}"/>`
      ),
      `<rect x="${W - R - 170}" y="${
        T + 4 + legend * 18
      }" width="12" height="12" fill="${color}"/>` +
        `<text x="${W - R - 152}" y="${T + 14 + legend * 18}">${
          key.replace("ours", "webrtc-mesh").replace("geckos", "geckos.io").replace(
            "@node",
            " (Node)",
          )
        }</text>`,
    );
    legend++;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${
    W / 2
  }" y="22" text-anchor="middle" font-size="15">Star: server CPU per delivered tick vs N (100 B at 20 Hz)</text>
${parts.join("\n")}
<text x="${W / 2}" y="${H - 14}" text-anchor="middle">N (clients, in processes of at most 32)</text>
<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${
    H / 2
  })">µs of server CPU</text>
</svg>
`;
}

/** One measured run. */
export interface StarResult {
  impl: string;
  mode: string;
  n: number;
  loadavg: number;
  connected: number;
  joinMedianMs: number;
  joinMaxMs: number;
  allConnectedMs: number;
  failedJoins: number;
  ticksSent: number;
  deliveredPct: number;
  ticksPerClientPerSec: number;
  rttP50Ms: number;
  rttP99Ms: number;
  cpuMsPerSec: number;
  /** Share of the server's CPU spent on its main (JavaScript) thread, the rest on native threads. */
  jsThreadPct: number;
  cpuUsPerDeliveredTick: number;
  rssPerClientKiB: number;
  late: number;
  /** Ours only: wall µs inside `putPacket` per peer reached (our JS and the native send). */
  putUsPerPeer: number;
  /** The server's runtime (`deno` or `node`); absent in older results: deno. */
  runtime?: string;
  /** Stack settings that differ from the defaults (`--sctp`, `--ice-mux`, `--server-stack`). */
  settings?: string;
  /**
   * The clients' stack (`ndc` or `wrtc`); absent in older results, whose clients ran on each
   * library's usual stack ({@link clientsOf}).
   */
  clientStack?: string;
  /** Server CPU ms (every thread) from the clients' start until all joined (or failed). */
  setupCpuMs?: number;
  /** When the run ended (ISO time); absent in older results. */
  at?: string;
  /**
   * `--syscalls`: the server's system calls (and context switches) per delivered tick while it
   * ticked: `send` = sendto + sendmsg (datagrams out), `recv` = recvfrom + recvmsg (datagrams in,
   * and the reads that found none), `futex` (thread wake-ups and waits), `cs` (context switches).
   */
  perTick?: { send: number; recv: number; futex: number; cs: number };
}

/** The stack a result's clients ran on. */
export function clientsOf(r: StarResult): string {
  return r.clientStack ?? clientStackOf(r.impl === "geckos" ? "geckos" : "ours", undefined);
}

export function table(results: readonly StarResult[]): string {
  const head = [
    "impl",
    "server",
    "clients",
    "mode",
    "N",
    "load",
    "conn",
    "join ms med (max)",
    "all ms",
    "setup CPU ms",
    "deliv %",
    "ticks/cl/s",
    "RTT p50/p99 ms",
    "CPU ms/s",
    "JS thr %",
    "µs/tick",
    "RSS KiB/cl",
  ];
  const rows = results.map((r) => [
    r.impl === "ours" ? "webrtc-mesh" : r.impl === "raw" ? "raw sends" : "geckos.io",
    [r.runtime === "node" ? "Node" : "Deno", r.settings].filter(Boolean).join(", "),
    clientsOf(r),
    r.mode,
    String(r.n),
    fmt(r.loadavg, 1),
    `${r.connected}${r.failedJoins ? ` (${r.failedJoins} failed)` : ""}`,
    `${fmt(r.joinMedianMs)} (${fmt(r.joinMaxMs)})`,
    fmt(r.allConnectedMs),
    r.setupCpuMs === undefined ? "" : fmt(r.setupCpuMs),
    fmt(r.deliveredPct, 1),
    fmt(r.ticksPerClientPerSec, 1),
    `${fmt(r.rttP50Ms, 1)} / ${fmt(r.rttP99Ms, 1)}`,
    fmt(r.cpuMsPerSec),
    fmt(r.jsThreadPct),
    fmt(r.cpuUsPerDeliveredTick, 1),
    fmt(r.rssPerClientKiB),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => (i < 4 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(" | ") + " |";
  return [
    line(head),
    "| " + w.map((x, i) => (i < 4 ? "-".repeat(x) : "-".repeat(x - 1) + ":")).join(" | ") + " |",
    ...rows.map(line),
  ].join("\n");
}

/** The issue's targets, checked on one run's results. */
export function verdicts(results: readonly StarResult[]): string[] {
  // The targets are judged on the stacks' default settings; other settings are shown apart.
  // A result of `impl` whose clients ran on `clients` (ours' and geckos.io's usual stacks when
  // not given). With several such results (repeated pairs), their median CPU per delivered tick.
  const get = (
    impl: string,
    mode: string,
    n: number,
    runtime = "deno",
    settings?: string,
    clients = impl === "geckos" ? "wrtc" : "ndc",
  ): StarResult | undefined => {
    const all = results.filter((r) =>
      r.impl === impl && r.mode === mode && r.n === n && (r.runtime ?? "deno") === runtime &&
      r.settings === settings && clientsOf(r) === clients
    );
    if (all.length <= 1) return all[0];
    // The middle run (of an even count, the mean of the middle two CPU figures).
    const sorted = [...all].sort((a, b) => a.cpuUsPerDeliveredTick - b.cpuUsPerDeliveredTick);
    const mid = sorted.length >> 1;
    const cpu = sorted.length % 2
      ? sorted[mid].cpuUsPerDeliveredTick
      : (sorted[mid - 1].cpuUsPerDeliveredTick + sorted[mid].cpuUsPerDeliveredTick) / 2;
    return { ...sorted[mid], cpuUsPerDeliveredTick: cpu };
  };
  const out: string[] = [];
  const name = (runtime: string) => runtime === "node" ? "Node" : "Deno";
  // Every pairing of the servers' runtimes and of the clients' stacks that was measured: none is
  // left out. Equal client stacks are the fair comparison; the usual ones (ours on ndc, geckos.io's
  // on wrtc) are what the bench measured first.
  const pairs = [["deno", "deno"], ["node", "node"], ["deno", "node"], ["node", "deno"]];
  const clientPairs = [["ndc", "wrtc"], ["wrtc", "wrtc"], ["ndc", "ndc"]];
  const clientsNote = (co: string, cg: string) =>
    co === cg ? `both libraries' clients on ${co}` : `clients: ours on ${co}, geckos.io's on ${cg}`;
  const count = (impl: string, n: number, settings: string | undefined, clients: string) =>
    results.filter((r) =>
      r.impl === impl && r.mode === "unreliable" && r.n === n && (r.runtime ?? "deno") === "deno" &&
      r.settings === settings && clientsOf(r) === clients
    ).length;
  for (const [co, cg] of clientPairs) {
    for (const n of [64, 128]) {
      // Across runtimes only for the usual clients (the first pass's comparison).
      for (const [ro, rg] of co === "ndc" && cg === "wrtc" ? pairs : pairs.slice(0, 2)) {
        const o = get("ours", "unreliable", n, ro, undefined, co);
        const g = get("geckos", "unreliable", n, rg, undefined, cg);
        if (!o || !g) continue;
        const ratio = o.cpuUsPerDeliveredTick / g.cpuUsPerDeliveredTick;
        const runs = [count("ours", n, undefined, co), count("geckos", n, undefined, cg)];
        out.push(
          `- N=${n} unreliable, ours on ${name(ro)} vs geckos.io on ${name(rg)}, ${
            clientsNote(co, cg)
          }: server CPU per delivered tick ${fmt(o.cpuUsPerDeliveredTick, 1)} µs vs ${
            fmt(g.cpuUsPerDeliveredTick, 1)
          } µs${
            Math.max(...runs) > 1 && ro === "deno" && rg === "deno"
              ? ` (medians of ${runs[0]} and ${runs[1]} runs)`
              : ""
          } = ${fmt(ratio, 2)}x (target <= 0.5x): ${ratio <= 0.5 ? "met" : "MISSED"}`,
        );
      }
    }
  }
  for (const settings of new Set(results.flatMap((r) => r.settings ? [r.settings] : []))) {
    for (const [co, cg] of clientPairs) {
      for (const n of [64, 128]) {
        const o = get("ours", "unreliable", n, "deno", settings, co);
        const g = get("geckos", "unreliable", n, "deno", settings, cg);
        if (!o || !g) continue;
        out.push(
          `- N=${n} unreliable, both on Deno with ${settings}, ${clientsNote(co, cg)}: ${
            fmt(o.cpuUsPerDeliveredTick, 1)
          } µs vs ${fmt(g.cpuUsPerDeliveredTick, 1)} µs = ${
            fmt(o.cpuUsPerDeliveredTick / g.cpuUsPerDeliveredTick, 2)
          }x (not the default settings: shown, not judged)`,
        );
      }
    }
  }
  const r128 = get("ours", "reliable", 128);
  if (r128) {
    const ok = r128.cpuMsPerSec <= 1000 && r128.deliveredPct >= 99.9 && r128.late === 0;
    out.push(
      `- N=128 reliable at ${TICK_HZ} Hz: ${fmt(r128.cpuMsPerSec)} ms/s server CPU, ${
        fmt(r128.deliveredPct, 1)
      }% delivered, ${r128.late} late ticks (target: within one core, all delivered): ${
        ok ? "met" : "MISSED"
      }`,
    );
  }
  const ns = [...new Set(results.map((r) => r.n))];
  const modes = [...new Set(results.map((r) => r.mode))];
  for (const n of ns) {
    for (const mode of modes) {
      for (const runtime of ["deno", "node"]) {
        const o = get("ours", mode, n, runtime), g = get("geckos", mode, n, runtime);
        if (!o || !g) continue;
        out.push(
          `- N=${n} ${mode}, both on ${name(runtime)}: all connected in ${
            fmt(o.allConnectedMs)
          } ms vs geckos.io ${fmt(g.allConnectedMs)} ms (target <=): ${
            o.allConnectedMs <= g.allConnectedMs ? "met" : "MISSED"
          }`,
        );
      }
    }
  }
  return out;
}

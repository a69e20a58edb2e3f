/**
 * The star benchmark's plot: server CPU per delivered tick against N, per library and mode.
 *
 * @module
 */
import { fmt } from "./_report.ts";

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

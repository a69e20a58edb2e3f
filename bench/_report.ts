/**
 * Benchmark statistics and output: the stdout table, BENCHMARKS.md and the formation SVG.
 *
 * @module
 */

/** The value at quantile `q` (0..1) of `xs` (nearest rank). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** The median of `xs`. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** One line of the result table. */
export interface Row {
  readonly name: string;
  readonly raw: string;
  readonly mesh: string;
  readonly ratio: string;
  readonly target: string;
  /** `true` met, `false` missed, `undefined` informational. */
  readonly met?: boolean;
}

/** Formats a number with `digits` significant decimals and thousands separators. */
export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return String(x);
  return x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

const HEAD = ["benchmark", "raw", "mesh", "mesh/raw", "target", "met"] as const;

function cells(r: Row): string[] {
  return [
    r.name,
    r.raw,
    r.mesh,
    r.ratio,
    r.target,
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ];
}

/** The rows as a fixed-width text table. */
export function textTable(rows: readonly Row[]): string {
  const all = [HEAD as readonly string[], ...rows.map(cells)];
  const w = HEAD.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(all[0]), w.map((n) => "-".repeat(n)).join("  "), ...all.slice(1).map(line)].join(
    "\n",
  );
}

/** The rows as a Markdown table. */
export function markdownTable(rows: readonly Row[]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(" | ")} |`),
  ].join("\n");
}

/** Formation times by N, for the plot. */
export interface FormationSeries {
  readonly n: number;
  readonly rawMedian: number;
  readonly rawMax: number;
  readonly meshMedian: number;
  readonly meshMax: number;
}

/** An SVG line plot of formation time (median, with max whiskers) against N. */
export function formationSvg(
  series: readonly FormationSeries[],
  rawLabel = "raw node-datachannel",
): string {
  const W = 640, H = 400, L = 64, R = 24, T = 40, B = 56;
  const ymax = Math.max(10, ...series.flatMap((s) => [s.rawMax, s.meshMax])) * 1.1;
  const x = (i: number) => L + (series.length === 1 ? 0.5 : i / (series.length - 1)) * (W - L - R);
  const y = (v: number) => T + (1 - v / ymax) * (H - T - B);
  const step = niceStep(ymax / 5);
  const grid: string[] = [];
  for (let v = 0; v <= ymax; v += step) {
    grid.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${
        y(v).toFixed(1)
      }" stroke="#ddd"/>`,
      `<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  const xs = series.map((s, i) =>
    `<text x="${x(i).toFixed(1)}" y="${H - B + 18}" text-anchor="middle">${s.n}</text>`
  );
  const line = (
    key: "rawMedian" | "meshMedian",
    maxKey: "rawMax" | "meshMax",
    color: string,
    dx: number,
  ) => {
    const pts = series.map((s, i) => `${(x(i) + dx).toFixed(1)},${y(s[key]).toFixed(1)}`);
    const whiskers = series.map((s, i) =>
      `<line x1="${(x(i) + dx).toFixed(1)}" x2="${(x(i) + dx).toFixed(1)}" y1="${
        y(s[key]).toFixed(1)
      }" y2="${y(s[maxKey]).toFixed(1)}" stroke="${color}" stroke-dasharray="3,2"/>` +
      `<circle cx="${(x(i) + dx).toFixed(1)}" cy="${
        y(s[key]).toFixed(1)
      }" r="3.5" fill="${color}"/>` +
      `<text x="${(x(i) + dx + 6).toFixed(1)}" y="${
        (y(s[maxKey]) + 4).toFixed(1)
      }" fill="${color}">` +
      `${fmt(s[maxKey])}</text>`
    );
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(" ")}"/>${
      whiskers.join("")
    }`;
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${
    W / 2
  }" y="22" text-anchor="middle" font-size="15">Full-mesh formation time vs N (median; dashed to max)</text>
${grid.join("\n")}
${xs.join("\n")}
<text x="${W / 2}" y="${
    H - 14
  }" text-anchor="middle">N (peers in one process; N(N-1)/2 connection pairs)</text>
<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">ms</text>
${line("rawMedian", "rawMax", "#888", -4)}
${line("meshMedian", "meshMax", "#1565c0", 4)}
<rect x="${L + 10}" y="${T + 4}" width="12" height="12" fill="#888"/><text x="${L + 28}" y="${
    T + 14
  }">${rawLabel}</text>
<rect x="${L + 10}" y="${T + 22}" width="12" height="12" fill="#1565c0"/><text x="${L + 28}" y="${
    T + 32
  }">webrtc-mesh</text>
</svg>
`;
}

function niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

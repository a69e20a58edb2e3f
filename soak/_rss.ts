/**
 * The soak's memory verdict, as a pure function of its samples.
 *
 * A fresh process's RSS rises for the first minutes (V8 grows its heap to its working size,
 * libdatachannel's threads get their malloc arenas, JIT code) and then stays flat. Comparing the
 * end with a sample taken during that rise hides a leak inside the rise; so the baseline is taken
 * where the rise has ended, found in the data rather than at a fixed time:
 *
 * 1. **Plateau.** RSS is fitted by least squares against the joins over the window (at least
 *    `windowMs` and `windowJoins`) that follows each sample; the plateau starts at the first sample from which every such window rises
 *    by at most `plateauKiBPerJoin` (a pause inside the warm-up, followed by another step, is not
 *    taken). The warm-up rises by several times that per join; a leak well below it still lets the
 *    plateau be found and is then measured (a leak above it means RSS never flattens, which fails
 *    a long enough run).
 * 2. **Baseline.** The median RSS of that first window (one sample is noisy).
 * 3. **Bound.** Over every sample from the plateau on: the least-squares slope of RSS against
 *    joins must be at most `maxKiBPerJoin`, and the last sample at most `maxGrowthMiB` above the
 *    baseline. A run whose judged stretch has fewer than `minJudgedJoins` joins is not judged on
 *    RSS (it says so); nor is a run shorter than `minMinutes` without a plateau (still warming up).
 *
 * @example
 * ```ts
 * import { judgeRss } from "./_rss.ts";
 * // 10 s apart, 50 joins apart: a 40 MiB rise over 2 minutes, then flat.
 * const samples = Array.from({ length: 60 }, (_, i) => ({
 *   atMs: i * 10_000,
 *   joins: i * 50,
 *   rssMiB: 100 + 40 * Math.min(1, i / 12),
 * }));
 * const v = judgeRss(samples, { minutes: 10 });
 * console.log(v.ok, v.plateau?.atMs, v.baselineMiB, v.kiBPerJoin); // true 100000 140 0.48
 * ```
 *
 * @module
 */

/** One measurement: when, after how many joins, and the RSS then. */
export interface RssSample {
  /** Milliseconds since the soak started. */
  readonly atMs: number;
  /** Joins completed so far. */
  readonly joins: number;
  /** Resident set size, MiB. */
  readonly rssMiB: number;
}

/** Thresholds of {@link judgeRss}. */
export interface RssBounds {
  /** Length of the soak as asked, minutes. */
  readonly minutes: number;
  /** Shortest window the plateau is looked for with, ms. Default 60 s. */
  readonly windowMs?: number;
  /** Fewest joins in such a window (a slow run gets longer windows, less noisy). Default 150. */
  readonly windowJoins?: number;
  /** The rise per join below which a window counts as flat. Default 24 KiB. */
  readonly plateauKiBPerJoin?: number;
  /**
   * The largest allowed RSS slope after the plateau, KiB per join. Default 6: a clean 10-minute run
   * measured 3.3 (a slow, decelerating creep of native memory), a 10 KiB per-join leak adds 10.
   */
  readonly maxKiBPerJoin?: number;
  /** The largest allowed growth from the baseline to the end, MiB. Default 8. */
  readonly maxGrowthMiB?: number;
  /** Joins the judged stretch needs before RSS is judged at all. Default 300. */
  readonly minJudgedJoins?: number;
  /** Runs at least this long must reach a plateau. Default 5 minutes. */
  readonly minMinutes?: number;
}

/** What {@link judgeRss} found. */
export interface RssVerdict {
  /** False when RSS was judged and failed; true when it passed or was not judged. */
  readonly ok: boolean;
  /** Whether the bound was applied at all (else `reason` says why not). */
  readonly judged: boolean;
  /** The first sample of the plateau, if one was found. */
  readonly plateau?: RssSample;
  /** Median RSS of the plateau's first window, MiB. */
  readonly baselineMiB?: number;
  /** Least-squares RSS slope from the plateau to the end, KiB per join. */
  readonly kiBPerJoin?: number;
  /** Last sample minus baseline, MiB. */
  readonly growthMiB?: number;
  /** Joins from the plateau to the end. */
  readonly judgedJoins?: number;
  /** One line for the report. */
  readonly reason: string;
}

/** Least-squares slope of `y` against `x` (0 when `x` does not vary). */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** RSS slope against joins over `samples`, KiB per join. */
function kiBPerJoin(samples: readonly RssSample[]): number {
  return slope(samples.map((s) => [s.joins, s.rssMiB * 1024]));
}

const round = (x: number, digits = 2) => +x.toFixed(digits);

/** Finds the plateau and applies the bound; see the module's documentation. */
export function judgeRss(samples: readonly RssSample[], bounds: RssBounds): RssVerdict {
  const windowMs = bounds.windowMs ?? 60_000;
  const windowJoins = bounds.windowJoins ?? 150;
  const plateauKiB = bounds.plateauKiBPerJoin ?? 24;
  const maxKiB = bounds.maxKiBPerJoin ?? 6;
  const maxGrowth = bounds.maxGrowthMiB ?? 8;
  const minJoins = bounds.minJudgedJoins ?? 300;
  const minMinutes = bounds.minMinutes ?? 5;

  // The window slope from each sample on (while a full window is left); the plateau starts at the
  // first sample from which every window is flat, so a pause inside the warm-up is not taken.
  const slopes: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    const end = samples.findIndex((s) =>
      s.atMs >= samples[i].atMs + windowMs && s.joins >= samples[i].joins + windowJoins
    );
    if (end < 0) break; // no full window left
    slopes.push(kiBPerJoin(samples.slice(i, end + 1)));
  }
  let start = slopes.length;
  while (start > 0 && slopes[start - 1] <= plateauKiB) start--;
  if (start === slopes.length) start = -1;
  const lastWindowSlope = slopes.at(-1);
  if (start < 0) {
    const still = lastWindowSlope === undefined
      ? "the run is shorter than one window"
      : `RSS still rose by ${round(lastWindowSlope, 1)} KiB per join in the last full window`;
    if (bounds.minutes < minMinutes) {
      return {
        ok: true,
        judged: false,
        reason: `not judged: no plateau within a ${bounds.minutes}-minute run (${still}); ` +
          `runs of ${minMinutes} minutes or more are judged`,
      };
    }
    return { ok: false, judged: true, reason: `FAILED: RSS never flattened (${still})` };
  }
  const plateau = samples[start];
  const firstWindow = samples.filter((s) =>
    s.atMs >= plateau.atMs && (s.atMs <= plateau.atMs + windowMs ||
      s.joins <= plateau.joins + windowJoins)
  );
  const baselineMiB = round(median(firstWindow.map((s) => s.rssMiB)), 1);
  const judgedStretch = samples.slice(start);
  const last = judgedStretch[judgedStretch.length - 1];
  const judgedJoins = last.joins - plateau.joins;
  const perJoin = round(kiBPerJoin(judgedStretch));
  const growthMiB = round(last.rssMiB - baselineMiB, 1);
  const found = `plateau at ${round(plateau.atMs / 1000, 0)} s (join ${plateau.joins}), ` +
    `baseline ${baselineMiB} MiB, then ${perJoin} KiB/join over ${judgedJoins} joins, ` +
    `end ${last.rssMiB} MiB (${growthMiB >= 0 ? "+" : ""}${growthMiB} MiB)`;
  const common = { plateau, baselineMiB, kiBPerJoin: perJoin, growthMiB, judgedJoins };
  if (judgedJoins < minJoins) {
    return {
      ...common,
      ok: true,
      judged: false,
      reason: `not judged: ${found}; fewer than ${minJoins} joins after the plateau`,
    };
  }
  const problems: string[] = [];
  if (perJoin > maxKiB) problems.push(`slope above ${maxKiB} KiB/join`);
  if (growthMiB > maxGrowth) problems.push(`growth above ${maxGrowth} MiB`);
  return {
    ...common,
    ok: problems.length === 0,
    judged: true,
    reason: problems.length === 0
      ? `passed: ${found} (bounds ${maxKiB} KiB/join, ${maxGrowth} MiB)`
      : `FAILED: ${found}: ${problems.join(", ")}`,
  };
}

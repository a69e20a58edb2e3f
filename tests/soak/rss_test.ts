/**
 * The soak's memory verdict on synthetic series shaped like the measured ones (a rise of about
 * 55 MiB over the first minutes, then flat), with and without a leak. The real soak proves the
 * same on a real run (see soak/main.ts `--inject-leak-kib`).
 */
import { assertEquals, assertMatch } from "@std/assert";
import { judgeRss, type RssSample, slope } from "../../soak/_rss.ts";

/** A deterministic noise source in [-1, 1). */
function noise(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 1073741824 - 1;
  };
}

/**
 * Samples every 5 s for `minutes`, `joinsPerSecond` joins a second; RSS rises by `riseMiB` over
 * `riseSeconds` (fast at first, like the real curve), plus `leakKiB` per join and noise.
 */
function series(o: {
  minutes: number;
  joinsPerSecond?: number;
  riseMiB?: number;
  riseSeconds?: number;
  leakKiB?: number;
  /** The slow creep a clean run shows after the rise, KiB per join (measured: 3.3). */
  creepKiB?: number;
  noiseMiB?: number;
}): RssSample[] {
  const rand = noise(7);
  const out: RssSample[] = [];
  const rate = o.joinsPerSecond ?? 4;
  const riseSeconds = o.riseSeconds ?? 150;
  for (let t = 5; t <= o.minutes * 60; t += 5) {
    const joins = Math.round(t * rate);
    const warm = (o.riseMiB ?? 55) * (1 - (1 - Math.min(1, t / riseSeconds)) ** 2);
    const afterRise = Math.max(0, joins - riseSeconds * rate);
    const rssMiB = 120 + warm + (joins * (o.leakKiB ?? 0) + afterRise * (o.creepKiB ?? 0)) / 1024 +
      (o.noiseMiB ?? 1) * rand();
    out.push({ atMs: t * 1000, joins, rssMiB: +rssMiB.toFixed(1) });
  }
  return out;
}

Deno.test("rss: least-squares slope", () => {
  assertEquals(slope([[0, 1], [1, 3], [2, 5]]), 2);
  assertEquals(slope([[1, 1], [1, 2]]), 0);
  assertEquals(slope([[0, 1]]), 0);
});

Deno.test("rss: warm-up then flat passes, with the baseline taken after the rise", () => {
  const v = judgeRss(series({ minutes: 10 }), { minutes: 10 });
  assertEquals([v.ok, v.judged], [true, true], v.reason);
  // The rise ends at 150 s; the plateau is found near its end, not at 10 s.
  assertEquals(v.plateau!.atMs >= 90_000 && v.plateau!.atMs <= 180_000, true, v.reason);
  assertEquals(Math.abs(v.baselineMiB! - 175) < 2, true, v.reason);
  assertEquals(Math.abs(v.kiBPerJoin!) < 1, true, v.reason);
  assertMatch(v.reason, /^passed: plateau at \d+ s/);
});

Deno.test("rss: a 10 KiB per-join leak fails a 10-minute run, at 1 to 8 joins a second", () => {
  for (const joinsPerSecond of [1, 2, 4, 8]) {
    for (const creepKiB of [0, 3.3]) {
      const samples = series({ minutes: 10, joinsPerSecond, leakKiB: 10, creepKiB });
      const v = judgeRss(samples, { minutes: 10 });
      assertEquals(v.ok, false, `${joinsPerSecond}/s: ${v.reason}`);
      assertMatch(v.reason, /slope above 6 KiB\/join/);
      assertEquals(Math.abs(v.kiBPerJoin! - 10 - creepKiB) < 2, true, v.reason);
    }
  }
});

Deno.test("rss: the measured clean run (rise, then a 3.3 KiB/join creep) passes", () => {
  // Shaped like the 10-minute run of 2026-11-30: 2.2 joins a second, +45 MiB in 150 s, then creep.
  const samples = series({ minutes: 10, joinsPerSecond: 2.2, riseMiB: 45, creepKiB: 3.3 });
  const v = judgeRss(samples, { minutes: 10 });
  assertEquals([v.ok, v.judged], [true, true], v.reason);
  assertEquals(Math.abs(v.kiBPerJoin! - 3.3) < 1, true, v.reason);
});

Deno.test("rss: the same flat series passes at 1 to 8 joins a second, with 1 MiB of noise", () => {
  // Measured: consecutive samples of a flat stretch differ by 0.1 to 0.5 MiB.
  for (const joinsPerSecond of [1, 2, 4, 8]) {
    const v = judgeRss(series({ minutes: 10, joinsPerSecond, noiseMiB: 1 }), { minutes: 10 });
    assertEquals(v.ok && v.judged, true, `${joinsPerSecond}/s: ${v.reason}`);
  }
});

Deno.test("rss: growth beyond the bound fails even when the slope is within its bound", () => {
  // 5 KiB per join at 8 joins a second: under 6 KiB/join, but 18 MiB over the judged stretch.
  const v = judgeRss(series({ minutes: 10, joinsPerSecond: 8, creepKiB: 5 }), { minutes: 10 });
  assertEquals(v.ok, false, v.reason);
  assertMatch(v.reason, /: growth above 8 MiB$/);
});

Deno.test("rss: a step at the very end is still rising: a long run fails", () => {
  const samples = series({ minutes: 10, noiseMiB: 0 }).map((s) =>
    s.atMs >= 590_000 ? { ...s, rssMiB: s.rssMiB + 12 } : s
  );
  const v = judgeRss(samples, { minutes: 10 });
  assertEquals([v.ok, v.judged], [false, true], v.reason);
  assertMatch(v.reason, /^FAILED: RSS never flattened/);
});

Deno.test("rss: a pause inside the warm-up is not taken for the plateau", () => {
  // Flat from 40 s to 120 s, then another 20 MiB step: the baseline comes after the step.
  const samples = series({ minutes: 10, noiseMiB: 0, riseSeconds: 40, riseMiB: 30 }).map((s) =>
    s.atMs >= 120_000 ? { ...s, rssMiB: s.rssMiB + 20 } : s
  );
  const v = judgeRss(samples, { minutes: 10 });
  assertEquals([v.ok, v.judged], [true, true], v.reason);
  assertEquals(v.plateau!.atMs >= 120_000, true, v.reason);
  assertEquals(v.baselineMiB, 170);
});

Deno.test("rss: short runs inside the warm-up are reported as not judged", () => {
  const ci = judgeRss(series({ minutes: 1 }), { minutes: 1 });
  assertEquals([ci.ok, ci.judged], [true, false]);
  assertMatch(ci.reason, /^not judged: no plateau within a 1-minute run \(the run is shorter/);
  const v = judgeRss(series({ minutes: 2 }), { minutes: 2 });
  assertEquals([v.ok, v.judged], [true, false]);
  assertMatch(v.reason, /^not judged: no plateau within a 2-minute run \(RSS still rose by/);
});

Deno.test("rss: a plateau with too few joins after it is not judged", () => {
  const v = judgeRss(series({ minutes: 3, riseSeconds: 60, joinsPerSecond: 2 }), { minutes: 3 });
  assertEquals([v.ok, v.judged], [true, false], v.reason);
  assertMatch(v.reason, /fewer than 300 joins after the plateau/);
});

Deno.test("rss: a long run that never flattens fails", () => {
  const v = judgeRss(series({ minutes: 10, leakKiB: 40 }), { minutes: 10 });
  assertEquals([v.ok, v.judged], [false, true]);
  assertMatch(v.reason, /^FAILED: RSS never flattened \(RSS still rose by [34]\d\.\d KiB per join/);
});

Deno.test("rss: the two measured 10-minute runs: clean passes, the injected 10 KiB leak fails", async () => {
  // Samples of real soaks (tests/soak/measured_rss.json): [ms, joins, RSS MiB] every 5 s.
  const runs = JSON.parse(
    await Deno.readTextFile(new URL("./measured_rss.json", import.meta.url)),
  ) as Record<string, { samples: [number, number, number][] }>;
  const judge = (name: string) =>
    judgeRss(
      runs[name].samples.map(([atMs, joins, rssMiB]) => ({ atMs, joins, rssMiB })),
      { minutes: 10 },
    );
  const clean = judge("clean10");
  assertEquals([clean.ok, clean.judged], [true, true], clean.reason);
  assertEquals(clean.kiBPerJoin! < 4.5 && clean.growthMiB! < 4, true, clean.reason);
  const leak = judge("leak10");
  assertEquals([leak.ok, leak.judged], [false, true], leak.reason);
  assertMatch(leak.reason, /slope above 6 KiB\/join, growth above 8 MiB$/);
  assertEquals(leak.kiBPerJoin! > 10, true, leak.reason);
});

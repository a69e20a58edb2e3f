/**
 * `deno task lab`: the network lab suite (tests/network/, root needed), each test file in its own
 * process, then the table of scenarios: candidate types chosen, setup time, packets, verdict.
 *
 * ```sh
 * deno task lab [--runs N]   # N > 1 repeats the suite; the table shows medians over the runs
 * ```
 *
 * `npm test` runs the same files (scripts/test.ts) and prints the same table.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readRows, renderTable, TABLE_FILE } from "../tests/network/_scenario.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "1" } },
});
const runs = Math.max(1, Number(args.runs) || 1);
await Deno.remove(TABLE_FILE).catch(() => {});
const files: string[] = [];
for await (const e of Deno.readDir("tests/network")) {
  if (e.isFile && e.name.endsWith("_test.ts")) files.push(`tests/network/${e.name}`);
}
files.sort();
let failed = 0;
const started = performance.now();
for (let run = 1; run <= runs; run++) {
  // Two at a time, like the project's runner.
  const queue = [...files];
  await Promise.all([0, 1].map(async () => {
    while (queue.length > 0) {
      const file = queue.shift()!;
      const t0 = performance.now();
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", file],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      console.log(`run ${run}: ${file} ${out.success ? "ok" : "FAILED"} (${seconds} s)`);
      if (!out.success) {
        failed++;
        const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
        console.log(text.split("\n").slice(-60).join("\n"));
      }
    }
  }));
}
console.log(`\n${renderTable(await readRows())}\n`);
console.log(
  `${files.length * runs - failed} passed, ${failed} failed in ${
    ((performance.now() - started) / 1000).toFixed(0)
  } s`,
);
Deno.exit(failed === 0 ? 0 : 1);

/**
 * The project's test command (`deno task test`, `npm test`): static checks, then every test suite,
 * then one plain closing line `N passed, N failed` that CI reads.
 *
 * Deno test suites write a JUnit report that this script counts; other steps (lint, format, type
 * check, Node and browser suites) count as one test each, or report their own counts.
 *
 * Flags: `--quick` skips the slow steps marked `slow` (for a fast local loop).
 *
 * @module
 */

interface Step {
  /** Shown in the summary. */
  name: string;
  /** The command to run. */
  cmd: string[];
  /** A JUnit file the command writes; its test cases are counted instead of the step itself. */
  junit?: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Skipped with `--quick`. */
  slow?: boolean;
}

const deno = Deno.execPath();
const resultsDir = ".test-results";
await Deno.mkdir(resultsDir, { recursive: true });

const steps: Step[] = [
  { name: "deno lint", cmd: [deno, "lint"] },
  { name: "deno fmt --check", cmd: [deno, "fmt", "--check"] },
  { name: "deno check", cmd: [deno, "check", "mod.ts", "."] },
  {
    name: "deno test",
    cmd: [
      deno,
      "test",
      "-A",
      "--doc",
      `--junit-path=${resultsDir}/deno.xml`,
      "--reporter=dot",
      ".",
    ],
    junit: `${resultsDir}/deno.xml`,
  },
];

const quick = Deno.args.includes("--quick");
let passed = 0;
let failed = 0;
const failures: string[] = [];

function countJunit(xml: string): { passed: number; failed: number; names: string[] } {
  let ok = 0;
  let bad = 0;
  const names: string[] = [];
  // Each <testcase ...> is either self-closing (passed) or contains <failure>/<error>/<skipped>.
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const body = m[3] ?? "";
    if (/<skipped\b/.test(body)) continue;
    if (/<(failure|error)\b/.test(body)) {
      bad++;
      names.push(/name="([^"]*)"/.exec(m[1])?.[1] ?? "?");
    } else ok++;
  }
  return { passed: ok, failed: bad, names };
}

for (const step of steps) {
  if (quick && step.slow) continue;
  console.log(`\n=== ${step.name}: ${step.cmd.map((a) => a.replace(deno, "deno")).join(" ")}`);
  if (step.junit) await Deno.remove(step.junit).catch(() => {});
  const started = performance.now();
  const child = new Deno.Command(step.cmd[0], {
    args: step.cmd.slice(1),
    env: step.env,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (step.junit) {
    let xml = "";
    try {
      xml = await Deno.readTextFile(step.junit);
    } catch {
      // no report: the whole step failed before running tests
    }
    const counts = countJunit(xml);
    passed += counts.passed;
    failed += counts.failed;
    failures.push(...counts.names.map((n) => `${step.name}: ${n}`));
    if (!status.success && counts.failed === 0) {
      failed++;
      failures.push(`${step.name}: exited with code ${status.code} outside any test`);
    }
    console.log(`--- ${step.name}: ${counts.passed} passed, ${counts.failed} failed (${seconds}s)`);
  } else if (status.success) {
    passed++;
    console.log(`--- ${step.name}: ok (${seconds}s)`);
  } else {
    failed++;
    failures.push(step.name);
    console.log(`--- ${step.name}: FAILED with code ${status.code} (${seconds}s)`);
  }
}

if (failures.length > 0) {
  console.log("\nFailed:");
  for (const f of failures) console.log(`  - ${f}`);
}
console.log(`\n${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);

/**
 * The project's test command (`deno task test`, `npm test`): static checks, every test suite, then
 * one plain closing line `N passed, N failed` that CI reads.
 *
 * Why test files run in separate processes: node-datachannel's native addon keeps per-process
 * references into the first JavaScript isolate that loads it; a second isolate in the same process
 * that creates data channels makes Deno panic ("Handle hosted by disposed Isolate"). `deno test`
 * runs every test module (and every documentation example) in an isolate of its own, so each test
 * file, and each documentation example that touches node-datachannel, gets its own process here.
 *
 * Deno test runs write JUnit reports that this script counts; other steps (lint, format, type
 * check, Node and browser suites) count as one test each.
 *
 * Flags: `--only <substring>` runs only the test files whose path contains it (no static checks).
 *
 * @module
 */

import { readRows, renderTable } from "../tests/network/_scenario.ts";
import { sweepStaleLabs } from "../tests/network/_lab.ts";

const deno = Deno.execPath();
const resultsDir = ".test-results";
await Deno.remove(resultsDir, { recursive: true }).catch(() => {});
await Deno.mkdir(resultsDir, { recursive: true });

/** Source roots whose JSDoc examples are run, plus the README. */
const DOC_ROOTS = [
  "mod.ts",
  "core",
  "effects",
  "adapters",
  "signaling",
  "scene",
  "web",
  "README.md",
];
/** Doc examples that mention these run in a process of their own. */
const NEEDS_OWN_PROCESS =
  /node_datachannel|signaling|adapters\/|connectPair|joinLobby|mesh\/node|loadStack|wrtc/;
const CONCURRENCY = 2;

interface Outcome {
  passed: number;
  failed: number;
  failures: string[];
  output: string;
}

let passed = 0;
let failed = 0;
const failures: string[] = [];

function countJunit(xml: string): { passed: number; failed: number; names: string[] } {
  let ok = 0;
  let bad = 0;
  const names: string[] = [];
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

/** No single process may take longer than this; a hung one is killed and counts as failed. */
const PROCESS_TIMEOUT_MS = 240_000;

async function exec(cmd: string[], env?: Record<string, string>) {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, PROCESS_TIMEOUT_MS);
  const out = await child.output();
  clearTimeout(timer);
  let text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (timedOut) text += `\nkilled: still running after ${PROCESS_TIMEOUT_MS / 1000} s\n`;
  else if (!out.success) {
    // Said in the output kept for a failure: a crash (SIGSEGV at exit) reads apart from a failure.
    text += `\nprocess exited with code ${out.code}${out.signal ? ` (${out.signal})` : ""}\n`;
  }
  return { success: out.success && !timedOut, code: out.code, text };
}

/** Runs `deno test` with a JUnit report and counts its test cases. */
async function denoTest(
  label: string,
  args: string[],
  env?: Record<string, string>,
): Promise<Outcome> {
  const junit = `${resultsDir}/${label.replace(/[^A-Za-z0-9_.-]+/g, "_")}.xml`;
  const r = await exec([deno, "test", "-A", `--junit-path=${junit}`, ...args], env);
  let xml = "";
  try {
    xml = await Deno.readTextFile(junit);
  } catch {
    // No report: the run died before or while running tests.
  }
  const c = countJunit(xml);
  const names = c.names.map((n) => `${label}: ${n}`);
  let bad = c.failed;
  if (!r.success && c.failed === 0) {
    bad++;
    names.push(`${label}: exited with code ${r.code} outside any test`);
  }
  return { passed: c.passed, failed: bad, failures: names, output: r.text };
}

/** Adds up outcomes; keeps the output of the failed ones only. */
function total(outcomes: Outcome[]): Outcome {
  return outcomes.reduce((a, o) => ({
    passed: a.passed + o.passed,
    failed: a.failed + o.failed,
    failures: [...a.failures, ...o.failures],
    output: a.output + (o.failed > 0 ? o.output : ""),
  }), { passed: 0, failed: 0, failures: [], output: "" });
}

async function inParallel<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

function report(name: string, o: Outcome, seconds: number) {
  passed += o.passed;
  failed += o.failed;
  failures.push(...o.failures);
  const verdict = o.failed === 0 ? "ok" : "FAILED";
  console.log(
    `--- ${name}: ${o.passed} passed, ${o.failed} failed (${seconds.toFixed(1)}s) ${verdict}`,
  );
  if (o.failed > 0) console.log(o.output.split("\n").slice(-80).join("\n"));
}

async function step(name: string, run: () => Promise<Outcome>) {
  console.log(`=== ${name}`);
  const started = performance.now();
  const o = await run();
  report(name, o, (performance.now() - started) / 1000);
}

async function command(cmd: string[]): Promise<Outcome> {
  const r = await exec(cmd);
  return r.success ? { passed: 1, failed: 0, failures: [], output: r.text } : {
    passed: 0,
    failed: 1,
    failures: [cmd.slice(0, 3).join(" ").replace(deno, "deno")],
    output: r.text,
  };
}

async function walk(dir: string, match: (path: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "node_modules" && !entry.name.startsWith(".")) {
      found.push(...await walk(path, match));
    } else if (entry.isFile && match(path)) found.push(path);
  }
  return found.sort();
}

/**
 * Runs one documentation example in a process of its own: extracts the code block at
 * `file#start-end`, writes it beside its source (so relative imports resolve as in `--doc`) as a
 * test module, and runs it. Imports stay at the top; the rest becomes the body of one async test.
 */
async function runExtracted(name: string): Promise<Outcome> {
  const hash = name.indexOf("#");
  const file = name.slice(0, hash);
  const start = Number(/#(\d+)-/.exec(name)![1]);
  // `start` is the 1-based line of the opening fence, i.e. the 0-based index of the first code line.
  const lines = (await Deno.readTextFile(file)).split("\n");
  const code: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i].replace(/^\s*\* ?/, "");
    if (/^```/.test(line.trim())) break;
    code.push(line);
  }
  const imports: string[] = [];
  const body: string[] = [];
  let inImport = false;
  for (const line of code) {
    if (inImport || /^import\s/.test(line)) {
      imports.push(line);
      inImport = !/;\s*$/.test(line);
    } else body.push(line);
  }
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".";
  const base = file.slice(file.lastIndexOf("/") + 1).replace(/\W/g, "_");
  const temp = `${dir}/.doctest_${base}_${start}_test.ts`;
  await Deno.writeTextFile(
    temp,
    `${imports.join("\n")}\n\nDeno.test(${JSON.stringify(name)}, async () => {\n${
      body.join("\n")
    }\n});\n`,
  );
  try {
    return await denoTest(`doc-${name}`, [temp]);
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

const only = Deno.args.includes("--only") ? Deno.args[Deno.args.indexOf("--only") + 1] : undefined;

/**
 * npm 11 runs a dependency's install script only when package.json's `allowScripts` approves it
 * (today it warns and runs it; `--strict-allow-scripts`, the announced default, refuses to
 * install): every one must be decided there, so `npm ci` is clean and does the same everywhere.
 */
async function installScriptsReviewed(): Promise<Outcome> {
  const r = await exec(["npm", "install-scripts", "ls"]);
  if (!r.success && /Unknown command|not a known command/i.test(r.text)) {
    return { passed: 1, failed: 0, failures: [], output: "npm has no install-scripts (npm < 11)" };
  }
  const ok = r.success && /No packages with unreviewed install scripts/.test(r.text);
  return ok ? { passed: 1, failed: 0, failures: [], output: r.text } : {
    passed: 0,
    failed: 1,
    failures: ["npm install-scripts ls: a dependency's install script is not in allowScripts"],
    output: r.text,
  };
}

if (only === undefined) {
  await step(
    "npm install-scripts ls (every install script approved or denied)",
    installScriptsReviewed,
  );
  await step("deno lint", () => command([deno, "lint"]));
  await step("deno fmt --check", () => command([deno, "fmt", "--check"]));
  await step("deno check", () => command([deno, "check", "."]));
}

/**
 * Suites that run once per WebRTC stack of Deno and Node (tests/_stack.ts reads `MESH_STACK`):
 * their files that make connections (through the stack helpers) are run again with each stack
 * other than the default; the others (pure, or signaling only) run once.
 */
const PER_STACK = /^tests\/(effects|reliability)\//;
/** Imports through which a test file makes WebRTC connections. */
const STACK_HELPERS =
  /_stack\.ts|_mesh\.ts|_child\.ts|_lobby_host|_close_during_setup|_peer_process/;
/** The stacks besides the default (ndc) that {@link PER_STACK} suites also run on. */
const OTHER_STACKS = ["wrtc"];

/** One process per test file, and per stack for the {@link PER_STACK} files that use one. */
async function runsOf(
  files: readonly string[],
): Promise<Array<{ label: string; file: string; env?: Record<string, string> }>> {
  const runs = [];
  for (const file of files) {
    if (!PER_STACK.test(file) || !STACK_HELPERS.test(await Deno.readTextFile(file))) {
      runs.push({ label: file, file });
      continue;
    }
    runs.push({ label: file, file, env: { MESH_STACK: "ndc" } });
    for (const stack of OTHER_STACKS) {
      runs.push({ label: `${file} [${stack}]`, file, env: { MESH_STACK: stack } });
    }
  }
  return runs;
}

// Test files: one process each. The network lab's files (tests/network/: NATs, coturn, Chromium,
// many processes) run in a step of their own, so that their load does not overlap the timing
// bounds of the reliability tests.
const LAB_DIR = "tests/network/";
const allTestFiles = (await walk("tests", (p) => p.endsWith("_test.ts")))
  .filter((p) => only === undefined || p.includes(only));
const testFiles = allTestFiles.filter((p) => !p.startsWith(LAB_DIR));
const labFiles = allTestFiles.filter((p) => p.startsWith(LAB_DIR));
for (const [name, files] of [["deno test", testFiles], ["network lab", labFiles]] as const) {
  if (files.length === 0) continue;
  const runs = await runsOf(files);
  await step(`${name} (${files.length} files, ${runs.length} processes)`, async () => {
    const outcomes = await inParallel(
      runs.map(({ label, file, env }) => () => denoTest(label, [file], env)),
      CONCURRENCY,
    );
    return total(outcomes);
  });
}

// The network lab's scenario table (tests/network/, `deno task lab` prints the same), and the
// namespaces of lab runs that died without tearing down (a test process killed on timeout).
const labRows = await readRows();
const stale = await sweepStaleLabs().catch(() => 0);
if (stale > 0) console.log(`removed ${stale} network namespaces left by killed lab runs`);
if (labRows.length > 0) console.log(`\nNetwork lab:\n${renderTable(labRows)}\n`);

if (only === undefined) {
  const roots: string[] = [];
  for (const r of DOC_ROOTS) if (await exists(r)) roots.push(r);
  await step("deno test --doc (documentation examples)", async () => {
    // Find the examples that need a process of their own: fenced ts/js blocks in JSDoc and
    // Markdown, named as `deno test --doc` names them (`file#<line of the opening fence>-...`).
    const own: string[] = [];
    const common: string[] = [];
    for (const root of roots) {
      const files = root.endsWith(".ts") || root.endsWith(".md")
        ? [root]
        : await walk(root, (p) => p.endsWith(".ts") && !p.endsWith("_test.ts"));
      for (const file of files) {
        const lines = (await Deno.readTextFile(file)).split("\n");
        for (let i = 0; i < lines.length; i++) {
          if (!/^\s*(\*\s*)?```(ts|typescript|js|javascript|tsx|jsx)\b/.test(lines[i])) continue;
          // `ts ignore` blocks are sketches (deno test --doc skips them too).
          const ignored = /^\s*(\*\s*)?```\w+\s+ignore\b/.test(lines[i]);
          let j = i + 1;
          while (j < lines.length && !/^\s*(\*\s*)?```\s*$/.test(lines[j])) j++;
          const name = `${file}#${i + 1}-`;
          if (!ignored) {
            (NEEDS_OWN_PROCESS.test(lines.slice(i, j).join("\n")) ? own : common).push(name);
          }
          i = j;
        }
      }
    }
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    // Deno's filter is a Rust regex (no look-around): list the examples to run, not the others.
    const alternatives = common.map((n) => escape(n)).join("|");
    const shared = () =>
      denoTest("doc-shared", [
        "--doc",
        "--filter",
        `/(?:${alternatives})/`,
        ...roots,
      ]);
    const isolated = own.map((name) => () => runExtracted(name));
    // The shared run first: the extracted examples are written into the source folders.
    const outcomes = [await shared(), ...await inParallel(isolated, CONCURRENCY)];
    return total(outcomes);
  });
}

if (only === undefined) {
  await step(
    "JSR: publish dry-run, slow types, doc lint",
    () => command([deno, "run", "-A", "scripts/check_publish.ts"]),
  );
  await step(
    "npm: build, pack, install in a Node project, node --test, tsc",
    () => command([deno, "run", "-A", "scripts/npm_test.ts"]),
  );
  await step(
    // One minute ends inside the RSS warm-up: the leak bound needs a plateau (5+ minutes, see
    // soak/_rss.ts); this run checks the joins, the descriptors and the gross RSS cap.
    "soak, 1 minute (every join meshes; fds back; RSS gross cap, leak bound not judged)",
    () => command([deno, "run", "-A", "--v8-flags=--expose-gc", "soak/main.ts", "--minutes", "1"]),
  );
  // Benchmarks are not tests: this only proves they still run (figures: BENCHMARKS.md).
  await step(
    "bench --quick (runs, no targets checked)",
    () => command([deno, "run", "-A", "bench/main.ts", "--quick"]),
  );
}

if (failures.length > 0) {
  console.log("\nFailed:");
  for (const f of failures) console.log(`  - ${f}`);
}
console.log(`\n${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);

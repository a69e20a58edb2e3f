/**
 * Text snapshots of our own (jsr's `@std/testing/snapshot` is out of reach).
 *
 * Snapshots are plain text files under `tests/__snapshots__/`, one per test file, mirroring the
 * test's path below `tests/` (`tests/core/x_test.ts` -> `tests/__snapshots__/core/x_test.ts.snap`).
 * Each snapshot sits between a `>>> name` line and a `<<<` line, so the file reads as-is.
 *
 * A snapshot is written only in update mode: `deno test -A tests/ -- --update` (or environment
 * `UPDATE_SNAPSHOTS=1`). Otherwise a mismatch fails with a line diff and a missing snapshot fails
 * with the command that creates it; nothing is ever written silently.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const OPEN = ">>> ";
const CLOSE = "<<<";
const TESTS_DIR = dirname(fileURLToPath(import.meta.url));
const UPDATE_COMMAND = "deno test -A tests/ -- --update";

/** Options of {@link assertTextSnapshot}. */
export interface SnapshotOptions {
  /** Write the snapshot instead of comparing; defaults to {@link isUpdateMode}. */
  readonly update?: boolean;
}

/**
 * Whether this run may write snapshots: `--update` among the script arguments, or environment
 * variable `UPDATE_SNAPSHOTS=1`.
 *
 * @example
 * ```ts
 * import { isUpdateMode } from "./_snapshot.ts";
 * console.log(typeof isUpdateMode()); // "boolean"
 * ```
 */
export function isUpdateMode(): boolean {
  if (Deno.args.includes("--update")) return true;
  try {
    return Deno.env.get("UPDATE_SNAPSHOTS") === "1";
  } catch {
    return false; // no --allow-env
  }
}

/** Parses a snapshot file into its snapshots, in file order. */
export function parseSnapshots(text: string): Map<string, string> {
  const result = new Map<string, string>();
  let name: string | undefined;
  let body: string[] = [];
  for (const line of text.split("\n")) {
    if (name === undefined) {
      if (line.startsWith(OPEN)) {
        name = line.slice(OPEN.length);
        body = [];
      }
    } else if (line === CLOSE) {
      result.set(name, body.join("\n"));
      name = undefined;
    } else {
      body.push(line);
    }
  }
  if (name !== undefined) {
    throw new Error(`snapshot file: snapshot "${name}" has no closing ${CLOSE}`);
  }
  return result;
}

/** Renders snapshots as the text of a snapshot file. */
export function formatSnapshots(snapshots: ReadonlyMap<string, string>): string {
  const parts = [`# Text snapshots. Regenerate with: ${UPDATE_COMMAND}\n`];
  for (const [name, body] of snapshots) parts.push(`${OPEN}${name}\n${body}\n${CLOSE}\n`);
  return parts.join("\n");
}

function readSnapshots(file: string): Map<string, string> | undefined {
  try {
    return parseSnapshots(Deno.readTextFileSync(file));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** A unified-style line diff of two texts (`-` expected, `+` actual, two lines of context). */
export function diffLines(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  // Longest common subsequence table, from the end.
  const lcs: number[][] = Array.from(
    { length: a.length + 1 },
    () => new Array(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push(`- ${a[i++]}`);
    } else {
      ops.push(`+ ${b[j++]}`);
    }
  }
  const keep = ops.map((_op, k) =>
    ops.slice(Math.max(0, k - 2), k + 3).some((near) => !near.startsWith("  "))
  );
  const out: string[] = [];
  ops.forEach((op, k) => {
    if (keep[k]) out.push(op);
    else if (k === 0 || keep[k - 1]) out.push("  ...");
  });
  return out.join("\n");
}

/**
 * Compares `actual` with the snapshot `name` stored in `file`, or writes it in update mode.
 * Throws an `Error` with a diff on a mismatch, and one naming the update command when the
 * snapshot is missing.
 *
 * @example
 * ```ts
 * import { assertTextSnapshot } from "./_snapshot.ts";
 * const file = await Deno.makeTempFile({ suffix: ".snap" });
 * assertTextSnapshot(file, "greeting", "hello", { update: true });
 * assertTextSnapshot(file, "greeting", "hello", { update: false }); // matches
 * await Deno.remove(file);
 * ```
 */
export function assertTextSnapshot(
  file: string | URL,
  name: string,
  actual: string,
  options: SnapshotOptions = {},
): void {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  if (name.includes("\n") || name.length === 0) {
    throw new Error(`snapshot name must be one non-empty line, got ${JSON.stringify(name)}`);
  }
  const bad = actual.split("\n").find((line) => line.startsWith(OPEN) || line === CLOSE);
  if (bad !== undefined) {
    throw new Error(`snapshot "${name}": a line may not start with "${OPEN}" or be "${CLOSE}"`);
  }
  const update = options.update ?? isUpdateMode();
  const stored = readSnapshots(path);
  if (update) {
    const next = new Map(stored ?? []);
    if (next.get(name) === actual) return;
    next.set(name, actual);
    Deno.mkdirSync(dirname(path), { recursive: true });
    Deno.writeTextFileSync(path, formatSnapshots(next));
    return;
  }
  const expected = stored?.get(name);
  if (expected === undefined) {
    throw new Error(
      `snapshot "${name}" is missing from ${path}; ` +
        `run \`${UPDATE_COMMAND}\` to create it, then review and commit the file`,
    );
  }
  if (expected !== actual) {
    throw new Error(
      `snapshot "${name}" does not match ${path} (- snapshot, + actual); ` +
        `if the change is intended run \`${UPDATE_COMMAND}\`\n${diffLines(expected, actual)}`,
    );
  }
}

/** The snapshot file of a test module: its path below `tests/` under `tests/__snapshots__/`. */
export function snapshotFileOf(testModule: string | URL): string {
  const path = fileURLToPath(testModule);
  return join(TESTS_DIR, "__snapshots__", `${relative(TESTS_DIR, path)}.snap`);
}

const counters = new WeakMap<Deno.TestContext, number>();

function fullName(t: Deno.TestContext): string {
  const names: string[] = [];
  for (let c: Deno.TestContext | undefined = t; c !== undefined; c = c.parent) {
    names.unshift(c.name);
  }
  return names.join(" > ");
}

/**
 * Compares `actual` with this test's snapshot (named after the test and its steps; a second
 * snapshot in the same test gets ` #2`, and so on), stored in the test file's snapshot file.
 *
 * @example
 * ```ts ignore
 * import { assertSnapshot } from "./_snapshot.ts";
 * Deno.test("greets", (t) => assertSnapshot(t, "hello"));
 * ```
 */
export function assertSnapshot(
  t: Deno.TestContext,
  actual: string,
  options: SnapshotOptions = {},
): void {
  const count = (counters.get(t) ?? 0) + 1;
  counters.set(t, count);
  const name = count === 1 ? fullName(t) : `${fullName(t)} #${count}`;
  assertTextSnapshot(snapshotFileOf(t.origin), name, actual, options);
}

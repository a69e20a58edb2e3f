/**
 * Checks that the package is ready for JSR:
 *
 * - `deno publish --dry-run --allow-dirty` succeeds with no slow types and no warning except the
 *   one deliberate dynamic import in `signaling/_open.ts` (`importRuntimeOnly`, which keeps `ws`
 *   and node-datachannel out of browser bundles), and publishes no tests or snapshots;
 * - `deno doc --lint` is clean on every entry point listed in deno.json's `exports`.
 *
 * ```sh
 * deno run -A scripts/check_publish.ts
 * ```
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Warnings that are expected, as `code@file`: both load runtime-only code chosen at run time (`ws`;
 * the WebRTC stack named by the caller), on purpose out of reach of bundlers and of the module graph.
 */
const EXPECTED_WARNINGS = new Set([
  "unanalyzable-dynamic-import@signaling/_open.ts",
  "unanalyzable-dynamic-import@adapters/stack.ts",
]);

async function deno(args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { ok: out.success, text };
}

/** Runs the checks; returns the problems found (empty when all is well). */
export async function checkPublish(): Promise<string[]> {
  const problems: string[] = [];
  const publish = await deno(["publish", "--dry-run", "--allow-dirty"]);
  if (!publish.ok || !/Dry run complete/.test(publish.text)) {
    problems.push(`deno publish --dry-run failed:\n${publish.text}`);
  }
  const diagnostics = [
    ...publish.text.matchAll(/^(warning|error)\[([\w-]+)\][^\n]*\n\s*-->\s*(\S+?):\d+:\d+/gm),
  ];
  for (const [, level, code, file] of diagnostics) {
    const rel = file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
    if (level === "error" || !EXPECTED_WARNINGS.has(`${code}@${rel}`)) {
      problems.push(`deno publish: ${level}[${code}] at ${rel}`);
    }
  }
  if (/slow type/i.test(publish.text.replace(/Checking for slow types[^\n]*/g, ""))) {
    problems.push("deno publish reports slow types");
  }
  for (const m of publish.text.matchAll(/^\s+file:\/\/(\S+)/gm)) {
    const rel = m[1].slice(root.length + 1);
    if (/(^|\/)tests\/|_test\.|__snapshots__|\.snap$/.test(rel)) {
      problems.push(`deno publish would ship ${rel}`);
    }
  }

  const denoJson = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  const entries = Object.values(denoJson.exports as Record<string, string>);
  const doc = await deno(["doc", "--lint", ...entries]);
  if (!doc.ok || /^(error|warning)/m.test(doc.text)) {
    problems.push(`deno doc --lint ${entries.join(" ")}:\n${doc.text}`);
  }
  return problems;
}

if (import.meta.main) {
  const problems = await checkPublish();
  if (problems.length > 0) {
    for (const p of problems) console.log(p);
    console.log("JSR publish check: FAILED");
    Deno.exit(1);
  }
  console.log("JSR publish check: passed (dry-run publish, slow types, doc lint of every export)");
}

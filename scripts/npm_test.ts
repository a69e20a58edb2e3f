/**
 * Proves the npm package works for a plain Node project:
 *
 * 1. builds it (`scripts/build_npm.ts`) and checks what `npm pack` would ship: no tests, no
 *    snapshots, no source maps pointing outside the package, every `exports` target present;
 * 2. packs it and installs the tarball into a fresh temporary Node project (dependencies come from
 *    npm's cache when it has them);
 * 3. checks that the install ran no install scripts and needs none (npm 11 asks for approval of
 *    each dependency's);
 * 4. runs the package's command, `npx webrtc-mesh serve` (help, a bad flag, a lobby, SIGINT);
 * 5. runs `node --test` there, with no Deno on `PATH`: the test imports the package by name, forms a
 *    full mesh of three `WebRTCMultiplayer`s over node-datachannel through the packaged signaling
 *    server and client, exchanges packets on all three transfer modes and checks the signals;
 * 6. type-checks a TypeScript consumer of the public types with `tsc --noEmit` (declarations
 *    included, `skipLibCheck` off), twice: with the default libraries, and as a Node-only project
 *    (`lib: ["ES2022"]` and `@types/node`, no DOM).
 *
 * The consumer code of steps 5 and 6 is in `./_npm_consumer.ts`.
 *
 * Prints one line per step and exits non-zero on the first failure.
 *
 * ```sh
 * deno run -A scripts/npm_test.ts [--keep]     # or: deno task test:npm
 * ```
 *
 * `--keep` leaves the temporary project in place (its path is printed).
 *
 * @module
 */
import { buildNpm, ENTRY_POINTS, NPM_NAME } from "./build_npm.ts";
import { lines } from "../demo/_lines.ts";
import { CONSUMER_TEST, CONSUMER_TS, CONSUMER_WRTC_TEST } from "./_npm_consumer.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const keep = Deno.args.includes("--keep");

/** A failed step: its name and the output that explains it. */
class StepFailed extends Error {}

/** How a command ran: its exit code and what it printed. */
interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; never throws for a non-zero exit. */
async function runAny(
  cmd: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; clearEnv?: boolean },
): Promise<Ran> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: options.clearEnv,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Runs a command; returns its output, or throws {@link StepFailed} if it exits non-zero. */
async function run(
  cmd: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; clearEnv?: boolean },
): Promise<string> {
  const out = await runAny(cmd, args, options);
  const text = out.stdout + out.stderr;
  if (out.code !== 0) {
    throw new StepFailed(
      `${cmd} ${args.join(" ")} (in ${options.cwd}) exited ${out.code}:\n${text}`,
    );
  }
  return text;
}

async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const result = await body();
    console.log(`ok   ${name} (${((performance.now() - started) / 1000).toFixed(1)}s)`);
    return result;
  } catch (error) {
    console.log(`FAIL ${name}`);
    throw error;
  }
}

/** `PATH` without any folder that holds a `deno` executable. */
async function pathWithoutDeno(): Promise<string> {
  const dirs: string[] = [];
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const hasDeno = await Deno.stat(`${dir}/deno`).then(() => true, () => false);
    if (!hasDeno) dirs.push(dir);
  }
  return dirs.join(":");
}

interface PackedFile {
  path: string;
}

/** Checks the file list of `npm pack --dry-run --json` and the source maps in it. */
async function checkPackContents(packageDir: string): Promise<string[]> {
  const json = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: packageDir,
  });
  const files = (JSON.parse(json.slice(json.indexOf("["))) as { files: PackedFile[] }[])[0].files
    .map((f) => f.path).sort();
  const problems: string[] = [];
  for (const file of files) {
    if (/(^|\/)tests?\//.test(file) || /_test\.|\.test\./.test(file)) {
      problems.push(`${file}: a test`);
    }
    if (/__snapshots__|\.snap$/.test(file)) problems.push(`${file}: a snapshot`);
    if (/\.ts$/.test(file) && !file.endsWith(".d.ts")) problems.push(`${file}: TypeScript source`);
    if (file.endsWith(".map")) {
      const map = JSON.parse(await Deno.readTextFile(`${packageDir}/${file}`));
      const base = new URL(`file:///pkg/${file}`);
      for (const source of map.sources ?? []) {
        const resolved = new URL(`${map.sourceRoot ?? ""}${source}`, base);
        if (resolved.protocol !== "file:" || !resolved.pathname.startsWith("/pkg/")) {
          problems.push(`${file}: source ${source} points outside the package`);
        } else if (!files.includes(resolved.pathname.slice("/pkg/".length))) {
          problems.push(`${file}: source ${source} is not in the package`);
        }
      }
    }
  }
  for (const file of Object.values(ENTRY_POINTS)) {
    for (const ext of [".js", ".d.ts"]) {
      const out = file.replace(/\.ts$/, ext);
      if (!files.includes(out)) problems.push(`${out}: exported but not packed`);
    }
  }
  for (const file of ["package.json", "README.md", "LICENSE"]) {
    if (!files.includes(file)) problems.push(`${file}: missing`);
  }
  if (problems.length > 0) {
    throw new StepFailed(`bad package contents:\n  ${problems.join("\n  ")}`);
  }
  return files;
}

/** Lifecycle scripts npm runs on install (npm 11 blocks a dependency's unless approved). */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare"];

/**
 * Fails if installing the package ran (or wanted to run) any install script: none of the installed
 * packages may have one, nor a `binding.gyp` (npm would run `node-gyp rebuild`), npm's output must
 * not mention skipped scripts, and (npm 11) `npm install-scripts ls` must have nothing to review.
 */
async function checkNoInstallScripts(
  project: string,
  installOutput: string,
  env: Record<string, string>,
): Promise<void> {
  const problems: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory || entry.name === ".bin") continue;
      const path = `${dir}/${entry.name}`;
      if (entry.name.startsWith("@")) {
        await visit(path);
        continue;
      }
      const pkg = JSON.parse(await Deno.readTextFile(`${path}/package.json`).catch(() => "{}"));
      for (const script of INSTALL_SCRIPTS) {
        if (pkg.scripts?.[script]) problems.push(`${pkg.name}: ${script} ${pkg.scripts[script]}`);
      }
      if (await Deno.stat(`${path}/binding.gyp`).then(() => true, () => false)) {
        problems.push(`${pkg.name}: binding.gyp (npm would run node-gyp rebuild)`);
      }
      const nested = `${path}/node_modules`;
      if (await Deno.stat(nested).then((s) => s.isDirectory, () => false)) await visit(nested);
    }
  };
  await visit(`${project}/node_modules`);
  if (/install scripts/i.test(installOutput)) {
    problems.push(`npm install mentions install scripts:\n${installOutput}`);
  }
  const ls = await runAny("npm", ["install-scripts", "ls"], { cwd: project, env, clearEnv: true });
  const lsText = ls.stdout + ls.stderr;
  // npm before 11 has no install-scripts command (and runs scripts anyway): the walk above decides.
  if (ls.code === 0 && !/No packages with unreviewed install scripts/.test(lsText)) {
    problems.push(`npm install-scripts ls:\n${lsText}`);
  }
  if (problems.length > 0) throw new StepFailed(`install scripts:\n  ${problems.join("\n  ")}`);
}

/**
 * Runs the package's command as a user would: `npx webrtc-mesh serve --help` and a bad flag through
 * npx, then `node_modules/.bin/webrtc-mesh serve --port 0` (the bin link and its `#!` line): the
 * first line is the listening URL, a WebSocket client creates a lobby there, the server logs it,
 * and SIGINT stops it with exit code 0.
 */
async function checkServeCommand(project: string, env: Record<string, string>): Promise<void> {
  const help = await run("npx", ["--no", NPM_NAME, "serve", "--help"], {
    cwd: project,
    env,
    clearEnv: true,
  });
  for (const flag of ["--host", "--port", "--log-level", "--quiet", "--max-peers"]) {
    if (!new RegExp(`^  ${flag}\\b.*\\(default: [^)]+\\)$`, "m").test(help)) {
      throw new StepFailed(`serve --help does not list ${flag} with its default:\n${help}`);
    }
  }
  const bad = await runAny("npx", ["--no", NPM_NAME, "serve", "--port", "70000"], {
    cwd: project,
    env,
    clearEnv: true,
  });
  const badErr = bad.stderr;
  const wanted = `${NPM_NAME} serve: --port 70000: must be an integer in 0..65535 (see --help)\n`;
  if (bad.code !== 2 || badErr !== wanted) {
    throw new StepFailed(`serve --port 70000: exit ${bad.code}, stderr ${JSON.stringify(badErr)}`);
  }
  const child = new Deno.Command(`${project}/node_modules/.bin/${NPM_NAME}`, {
    args: ["serve", "--port", "0"],
    cwd: project,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = lines(child.stdout);
  const stderr = new Response(child.stderr).text();
  const rest: string[] = [];
  try {
    const first = await out.next();
    const url = /^signaling server listening on (ws:\/\/127\.0\.0\.1:\d+)$/.exec(
      first.done ? "" : first.value,
    )?.[1];
    if (!url) throw new StepFailed(`first line: ${first.value}; stderr: ${await stderr}`);
    const ws = new WebSocket(url);
    const frames: string[] = [];
    ws.onmessage = (e) => frames.push(String(e.data));
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new StepFailed(`cannot connect to ${url}`));
    });
    ws.send("J: \n");
    const deadline = Date.now() + 10000;
    while (!frames.some((f) => f.startsWith("J: ")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    ws.close();
    if (frames[0] !== "I: 1\n" || !frames.some((f) => f.startsWith("J: "))) {
      throw new StepFailed(`lobby not created; frames: ${JSON.stringify(frames)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    for await (const line of out) rest.push(line);
    const status = await child.status;
    const text = rest.join("\n");
    if (status.code !== 0 || !/\] Lobby \w+ created/.test(text) || !/shutting down/.test(text)) {
      throw new StepFailed(
        `after SIGINT: exit ${status.code}; stdout:\n${text}\nstderr:\n${await stderr}`,
      );
    }
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await child.status;
    await stderr;
  }
}

async function main(): Promise<void> {
  const build = await step("build the npm package (tsc)", () => buildNpm());
  const files = await step(
    "npm pack --dry-run: no tests, snapshots or stray source maps",
    () => checkPackContents(build.dir),
  );
  const tmp = await Deno.makeTempDir({ prefix: "webrtc_mesh_node_project_" });
  let passed = false;
  try {
    const tarball = await step(`npm pack (${files.length} files)`, async () => {
      const out = await run("npm", [
        "pack",
        "--json",
        "--ignore-scripts",
        "--pack-destination",
        tmp,
      ], {
        cwd: build.dir,
      });
      const name = (JSON.parse(out.slice(out.indexOf("["))) as { filename: string }[])[0].filename;
      return `${tmp}/${name}`;
    });
    const project = `${tmp}/project`;
    await Deno.mkdir(project);
    await Deno.writeTextFile(
      `${project}/package.json`,
      JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2),
    );
    const path = await pathWithoutDeno();
    const env = { PATH: path, HOME: Deno.env.get("HOME") ?? tmp, NO_COLOR: "1" };
    const installed = await step(
      "npm install <tarball> into a fresh Node project",
      () =>
        run("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], {
          cwd: project,
          env,
          clearEnv: true,
        }),
    );
    await step(
      "the install needs no install scripts (none in the package or its dependencies)",
      () => checkNoInstallScripts(project, installed, env),
    );
    await step(
      "npx webrtc-mesh serve: --help, a bad flag (exit 2), a lobby over a real socket, SIGINT",
      () => checkServeCommand(project, env),
    );
    const typesNode = JSON.parse(await Deno.readTextFile(`${root}/package.json`))
      .devDependencies["@types/node"];
    await step(
      `npm install -D @types/node@${typesNode} (for the Node-only TypeScript check)`,
      () =>
        run("npm", [
          "install",
          "--save-dev",
          `@types/node@${typesNode}`,
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
        ], { cwd: project, env, clearEnv: true }),
    );
    await Deno.writeTextFile(`${project}/consumer.test.mjs`, CONSUMER_TEST);
    await step("no deno on the test's PATH", async () => {
      const found = await run("sh", ["-c", "command -v deno || echo none"], {
        cwd: project,
        env,
        clearEnv: true,
      });
      if (found.trim() !== "none") throw new StepFailed(`deno is still on PATH: ${found}`);
    });
    const output = await step(
      "node --test consumer.test.mjs (3 meshes, signaling, 3 modes)",
      () =>
        run(
          "node",
          ["--test", "--test-reporter=spec", "--test-timeout=60000", "consumer.test.mjs"],
          {
            cwd: project,
            env,
            clearEnv: true,
          },
        ),
    );
    const summary = output.split("\n").filter((l) => /^\s*ℹ (tests|pass|fail)/.test(l));
    console.log(summary.map((l) => `     ${l.trim()}`).join("\n"));
    const wrtcVersion = JSON.parse(await Deno.readTextFile(`${root}/package.json`))
      .optionalDependencies["@roamhq/wrtc"];
    await step(
      `npm install @roamhq/wrtc@${wrtcVersion} (the optional libwebrtc stack)`,
      () =>
        run("npm", [
          "install",
          `@roamhq/wrtc@${wrtcVersion}`,
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
        ], { cwd: project, env, clearEnv: true }),
    );
    await Deno.writeTextFile(`${project}/consumer_wrtc.test.mjs`, CONSUMER_WRTC_TEST);
    await step(
      "node --test consumer_wrtc.test.mjs (webrtc-mesh/wrtc; libwebrtc <-> libdatachannel)",
      () =>
        run("node", ["--test", "--test-timeout=60000", "consumer_wrtc.test.mjs"], {
          cwd: project,
          env,
          clearEnv: true,
        }),
    );
    await Deno.writeTextFile(`${project}/consumer.ts`, CONSUMER_TS);
    const tsc = `${root}/node_modules/typescript/bin/tsc`;
    const compilerOptions = {
      strict: true,
      module: "NodeNext",
      moduleResolution: "NodeNext",
      target: "ES2022",
      noEmit: true,
      skipLibCheck: false,
    };
    const tsconfigs = {
      "tsconfig.json": { compilerOptions, files: ["consumer.ts"] },
      // A Node-only project: Node's types and no DOM library. The package's declarations must
      // type-check there too (they spell out the few DOM event types they use).
      "tsconfig.node.json": {
        compilerOptions: { ...compilerOptions, lib: ["ES2022"], types: ["node"] },
        files: ["consumer.ts"],
      },
    };
    for (const [name, config] of Object.entries(tsconfigs)) {
      await Deno.writeTextFile(`${project}/${name}`, JSON.stringify(config, null, 2));
    }
    await step(
      "tsc --noEmit consumer.ts (default libraries, declarations checked)",
      () => run("node", [tsc, "-p", "tsconfig.json"], { cwd: project, env, clearEnv: true }),
    );
    await step(
      "tsc --noEmit consumer.ts (Node-only project: lib ES2022 + @types/node, no DOM)",
      () => run("node", [tsc, "-p", "tsconfig.node.json"], { cwd: project, env, clearEnv: true }),
    );
    passed = true;
  } finally {
    if (keep || !passed) console.log(`temporary project kept in ${tmp}`);
    else await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    await main();
    console.log("npm package test: passed");
  } catch (error) {
    console.log(error instanceof Error ? error.message : String(error));
    console.log("npm package test: FAILED");
    Deno.exit(1);
  }
}

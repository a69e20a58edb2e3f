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

/** The Node test run inside the temporary project. */
const CONSUMER_TEST = `
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionStatus,
  GodotError,
  TransferMode,
  WebRTCMultiplayer,
} from "${NPM_NAME}";
import { joinLobby } from "${NPM_NAME}/signaling";
import { serveSignalingNode } from "${NPM_NAME}/signaling/node";
import { connectPair, createPeerConnection } from "${NPM_NAME}/node";
import { execFileSync } from "node:child_process";

const MODES = [TransferMode.RELIABLE, TransferMode.UNRELIABLE_ORDERED, TransferMode.UNRELIABLE];

/** Set by a test: describes the state when a wait times out. */
let diagnose = () => "";

async function until(condition, what, ms = 30000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what + "; " + diagnose());
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A mesh whose signals are recorded as "name" or "name:id". */
function recordedMesh() {
  const mesh = new WebRTCMultiplayer();
  const signals = [];
  for (const name of ["peer_connected", "peer_disconnected", "connection_succeeded", "server_disconnected"]) {
    mesh.addEventListener(name, (event) => {
      signals.push(event.detail === undefined || event.detail === null ? name : name + ":" + event.detail);
    });
  }
  return { mesh, signals };
}

test("the main and signaling entry points load no native code", () => {
  // A fresh process imports them and lists the shared objects mapped into it (Linux).
  const maps = execFileSync(process.execPath, ["--input-type=module", "-e",
    'const fs = await import("node:fs"); await import("${NPM_NAME}"); ' +
    'await import("${NPM_NAME}/signaling"); await import("${NPM_NAME}/stack"); ' +
    'process.stdout.write(fs.readFileSync("/proc/self/maps", "utf8"));',
  ], { encoding: "utf8" });
  assert.doesNotMatch(maps, /[.]node$/m);
});

test("the wrtc stack is not installed with the package, and choosing it says what to install", async () => {
  const { loadStack } = await import("${NPM_NAME}/stack");
  await assert.rejects(() => loadStack("wrtc"), /the wrtc stack failed to load .is @roamhq.wrtc installed/);
  await assert.rejects(() => loadStack("quic"), /unknown WebRTC stack "quic"/);
});

test("runs under Node, not Deno", () => {
  assert.equal(typeof globalThis.Deno, "undefined");
  assert.match(process.version, /^v\\d+/);
});

test("the main entry point works without a WebRTC stack", () => {
  const mesh = new WebRTCMultiplayer();
  assert.equal(mesh.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
  assert.equal(mesh.putPacket(new Uint8Array([1])), GodotError.ERR_UNCONFIGURED);
  assert.match(mesh.lastError.message, /initialize/);
  assert.equal(mesh.initialize(0), GodotError.ERR_INVALID_PARAMETER);
  assert.equal(mesh.initialize(7), GodotError.OK);
  assert.equal(mesh.getUniqueId(), 7);
  mesh.close();
});

test("three meshes over node-datachannel: full mesh via the packaged signaling, all transfer modes, signals", async () => {
  const server = await serveSignalingNode({ port: 0 });
  const clients = [];
  const recorded = [recordedMesh(), recordedMesh(), recordedMesh()];
  try {
    // Default WebSocket (ws on Node 20) and default peer connections (node-datachannel).
    clients.push(await joinLobby(server.url, "", { mesh: recorded[0].mesh }));
    for (const r of recorded.slice(1)) {
      clients.push(await joinLobby(server.url, clients[0].lobby, { mesh: r.mesh }));
    }
    const [host, b, c] = clients;
    const errors = [];
    for (const x of clients) {
      x.addEventListener("signaling_error", (e) => errors.push(x.id + ": " + e.detail.message));
    }
    diagnose = () => JSON.stringify({
      errors,
      signals: recorded.map((r) => r.signals),
      peers: clients.map((x) => [x.id, [...x.mesh.getPeers()].map(([id, p]) =>
        [id, p.connection.connectionState, p.channels.map((ch) => ch.readyState)])]),
    });
    assert.equal(host.id, 1);
    assert.equal(new Set(clients.map((x) => x.id)).size, 3);
    await until(
      () => clients.every((x) => [...x.mesh.getPeers().values()].filter((p) => p.connected).length === 2),
      "a full mesh",
    );
    await until(() => recorded.every((r) => r.signals.length >= (r === recorded[0] ? 2 : 3)), "signals");

    // Signals: the host announces both members; a member hears of the host first, then
    // connection_succeeded (server compatibility), then the other member.
    assert.deepEqual([...recorded[0].signals].sort(), ["peer_connected:" + b.id, "peer_connected:" + c.id].sort());
    for (const [i, other] of [[1, c], [2, b]]) {
      assert.deepEqual(recorded[i].signals, ["peer_connected:1", "connection_succeeded", "peer_connected:" + other.id]);
    }
    for (const x of clients) assert.equal(x.mesh.getConnectionStatus(), ConnectionStatus.CONNECTED);

    // Every mesh broadcasts one packet per transfer mode; every other mesh gets all of them.
    for (const x of clients) {
      for (const mode of MODES) {
        x.mesh.transferMode = mode;
        assert.equal(x.mesh.putPacket(new Uint8Array([x.id % 256, mode, 42])), GodotError.OK, x.mesh.lastError.message);
      }
    }
    await until(() => clients.every((x) => x.mesh.getAvailablePacketCount() === 6), "6 packets each");
    for (const x of clients) {
      const got = [];
      const iterator = x.mesh.packets();
      for (let i = 0; i < 6; i++) {
        const { value } = await iterator.next();
        got.push(value.peerId + "/" + value.channel + "/" + [...value.data].join(","));
      }
      await iterator.return();
      const want = clients.filter((o) => o !== x).flatMap((o) => MODES.map((m) => o.id + "/" + m + "/" + [o.id % 256, m, 42].join(",")));
      assert.deepEqual(got.sort(), want.sort());
    }

    // Godot style: a unicast read back with getPacketPeer/getPacket.
    b.mesh.transferMode = TransferMode.RELIABLE;
    b.mesh.targetPeer = c.id;
    assert.equal(b.mesh.putPacket(new TextEncoder().encode("only for c")), GodotError.OK);
    await until(() => c.mesh.getAvailablePacketCount() === 1, "the unicast");
    assert.equal(c.mesh.getPacketPeer(), b.id);
    assert.equal(new TextDecoder().decode(c.mesh.getPacket()), "only for c");
    assert.equal(host.mesh.getAvailablePacketCount(), 0);

    // A member leaves: the others see peer_disconnected for it.
    await c.close();
    await c.mesh.whenClosed();
    await until(() => recorded[0].signals.includes("peer_disconnected:" + c.id) &&
      recorded[1].signals.includes("peer_disconnected:" + c.id), "peer_disconnected");

    // The host leaves: the remaining member loses peer 1, then the server (server compatibility).
    await host.close();
    await host.mesh.whenClosed();
    await until(() => recorded[1].signals.includes("server_disconnected"), "server_disconnected");
    const tail = recorded[1].signals.slice(-2);
    assert.deepEqual(tail, ["peer_disconnected:1", "server_disconnected"]);
    assert.equal(b.mesh.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
    assert.deepEqual(recorded[2].signals.filter((s) => s.includes("disconnected")), []);
  } finally {
    for (const x of clients) {
      await x.close();
      await x.mesh.whenClosed();
    }
    await server.shutdown();
  }
});

test("connectPair and createPeerConnection from the node entry point", async () => {
  const a = new WebRTCMultiplayer();
  const b = new WebRTCMultiplayer();
  a.initialize(1);
  b.initialize(2);
  const pa = createPeerConnection();
  const pb = createPeerConnection();
  assert.equal(a.addPeer(pa, 2), GodotError.OK);
  assert.equal(b.addPeer(pb, 1), GodotError.OK);
  const connected = Promise.all([a, b].map((m) => new Promise((r) => m.addEventListener("peer_connected", r, { once: true }))));
  await connectPair(pa, pb);
  await connected;
  a.transferMode = TransferMode.RELIABLE;
  assert.equal(a.putPacket(new Uint8Array([9])), GodotError.OK);
  for await (const packet of b.packets()) {
    assert.deepEqual([packet.peerId, packet.channel, [...packet.data]], [1, TransferMode.RELIABLE, [9]]);
    break;
  }
  a.close();
  b.close();
  await Promise.all([a.whenClosed(), b.whenClosed()]);
});
`;

/**
 * The Node test run once `@roamhq/wrtc` is installed beside the package: the wrtc entry point,
 * and a mixed pair (libwebrtc ↔ libdatachannel) in one Node process, every transfer mode.
 */
const CONSUMER_WRTC_TEST = `
import { test } from "node:test";
import assert from "node:assert/strict";
import { GodotError, TransferMode, WebRTCMultiplayer } from "${NPM_NAME}";
import { createPeerConnection as ndc } from "${NPM_NAME}/node";
import { connectPair, createPeerConnection as wrtc } from "${NPM_NAME}/wrtc";

for (const [name, first, second] of [["wrtc <-> wrtc", wrtc, wrtc], ["wrtc <-> ndc", wrtc, ndc]]) {
  test(name + ": a pair of meshes, every transfer mode both ways", async () => {
    const a = new WebRTCMultiplayer();
    const b = new WebRTCMultiplayer();
    a.initialize(1);
    b.initialize(2);
    const pa = first();
    const pb = second();
    assert.equal(a.addPeer(pa, 2), GodotError.OK);
    assert.equal(b.addPeer(pb, 1), GodotError.OK);
    const connected = Promise.all([a, b].map((m) => new Promise((r) => m.addEventListener("peer_connected", r, { once: true }))));
    await connectPair(pa, pb);
    await connected;
    for (const mode of [TransferMode.RELIABLE, TransferMode.UNRELIABLE_ORDERED, TransferMode.UNRELIABLE]) {
      for (const [from, to, id] of [[a, b, 1], [b, a, 2]]) {
        from.transferMode = mode;
        assert.equal(from.putPacket(new Uint8Array([id, mode])), GodotError.OK);
        const it = to.packets();
        const { value } = await it.next();
        await it.return();
        assert.deepEqual([value.peerId, value.channel, [...value.data]], [id, mode, [id, mode]]);
      }
    }
    a.close();
    b.close();
    await Promise.all([a.whenClosed(), b.whenClosed()]);
  });
}
`;

/** A TypeScript consumer of the public types; `@ts-expect-error` lines prove they are not `any`. */
const CONSUMER_TS = `
import {
  ConnectionStatus,
  GodotError,
  type MeshOptions,
  type MeshStats,
  type Packet,
  type PeerInfo,
  type RTCPeerConnectionLike,
  TransferMode,
  WebRTCMultiplayer,
} from "${NPM_NAME}";
import { joinLobby, type JoinOptions, type LobbyClient, parseServerMessage } from "${NPM_NAME}/signaling";
import { type RunningSignalingServer, serveSignalingNode } from "${NPM_NAME}/signaling/node";
import { connectPair, createPeerConnection, type NodePeerConnection } from "${NPM_NAME}/node";
import { createPeerConnection as createBrowserPeerConnection } from "${NPM_NAME}/browser";

const options: MeshOptions = { autoPoll: false, maxQueuedPackets: 16 };
const mesh: WebRTCMultiplayer = new WebRTCMultiplayer(options);
const status: ConnectionStatus = mesh.getConnectionStatus();
const result: GodotError = mesh.initialize(1, true);
mesh.transferMode = TransferMode.UNRELIABLE_ORDERED;
const seen: unknown[] = [];
mesh.addEventListener("peer_connected", (event) => {
  const id: number = event.detail;
  const peer: PeerInfo | undefined = mesh.getPeer(id);
  seen.push([id, peer?.connected, status, result]);
});
const stats: MeshStats = mesh.stats();
const pc: NodePeerConnection = createPeerConnection({ iceServers: [] });
const w3c: RTCPeerConnectionLike = pc;
mesh.addPeer(w3c, 2);

export async function use(server: RunningSignalingServer): Promise<number> {
  const join: JoinOptions = { mesh, joinTimeoutMs: 1000 };
  const client: LobbyClient = await joinLobby(server.url, "", join);
  for await (const packet of client.mesh.packets()) {
    const p: Packet = packet;
    const bytes: Uint8Array = p.data;
    return bytes.length + p.peerId + p.channel + stats.queued;
  }
  await connectPair(pc, createPeerConnection());
  return 0;
}

export const started: Promise<RunningSignalingServer> = serveSignalingNode({ port: 0 });
export const browserFactory: typeof createBrowserPeerConnection = createBrowserPeerConnection;
export const parsed = parseServerMessage("I: 1\\n");

// @ts-expect-error transferMode is a TransferMode, not a string
mesh.transferMode = "reliable";
// @ts-expect-error putPacket takes bytes
mesh.putPacket("text");
// @ts-expect-error peer_connected carries a number
mesh.addEventListener("peer_connected", (event: CustomEvent<string>) => event);
`;

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

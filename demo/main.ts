/**
 * `deno task demo`: a signaling server on a free loopback port and N peers, each its own process,
 * joining one lobby and forming a full mesh; every peer sends on all three channels to all the
 * others. Shows a live status table, then a summary, and exits 0 only if every peer saw every
 * other and the packets arrived as each channel promises:
 *
 * - reliable: every packet sent, exactly once, in order (required);
 * - ordered ("unreliable ordered"): never out of order or duplicated (required); losses are
 *   allowed by the channel and reported;
 * - unreliable: never duplicated (required); losses and reordering are allowed and reported.
 *
 * Over loopback every packet normally arrives on all three channels; the summary shows the count.
 *
 * ```sh
 * deno task demo [--peers 4] [--duration 3] [--godot4 [--client-server]] [--mixed]
 *                [--stack ndc|wrtc|mixed]
 *                [--stun URL] [--turn turn:USER:PASSWORD@HOST:PORT] [--relay-only]
 * deno task demo --web [--peers 2] [--port 9080] [--host 127.0.0.1]
 * deno task demo --godot4 --scene [--peers 2] [--duration 3] [--port 9080]
 * deno task demo --help     # every flag with its default
 * ```
 *
 * `--godot4` runs the peers on Godot 4's protocol with `WebRTCMultiplayerPeer`; `--client-server`
 * makes the lobby a client/server one (peer 1 is the server, every other peer connects to it
 * alone); `--mixed` alternates Godot 3 and Godot 4 peers in one mesh lobby (the host speaks
 * Godot 3).
 *
 * `--stack` picks the WebRTC stack of the peer processes: `ndc` (node-datachannel, the default),
 * `wrtc` (`@roamhq/wrtc`, libwebrtc) or `mixed` (the two in turn). Not to be confused with
 * `--mixed`, which mixes the signaling protocols; both can be given.
 *
 * `--web` runs the browser demo instead (see `demo/_web.ts`): it serves the demo page, starts
 * `--peers` server-side peers (default 2) in a lobby and prints the address to open.
 *
 * `--godot4 --scene` runs the SceneMultiplayer demo instead (see `demo/_scene.ts`): a TypeScript
 * authoritative server that Godot 4 clients can join, and `--peers` TS bot clients (default 2).
 *
 * @module
 */
import { boolean, integer, number, oneOf, readFlags, string } from "../signaling/_flags.ts";
import { STACK_CHOICES, stackOf } from "../adapters/stack.ts";
import { DEFAULT_PORT } from "../signaling/protocol.ts";
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import type { PeerResult, PeerStatus } from "./peer.ts";
import { renderSummary, renderTable } from "./_table.ts";
import { lines } from "./_lines.ts";
import { checkIceFlags, ICE_FLAGS, iceArgs, type IceFlagValues } from "../signaling/_ice_flags.ts";

/** `deno task demo`'s command line. */
export const DEMO_COMMAND = {
  name: "deno task demo",
  summary: "A signaling server and N peer processes form a full mesh and trade packets on all\n" +
    "three channels; exits 0 only if every packet arrived as its channel promises.\n" +
    "With --web: serves the browser demo page with N server-side peers until Ctrl-C.\n" +
    "With --godot4 --scene: a TS SceneMultiplayer server for Godot 4 games and N TS bots.",
  flags: {
    peers: integer("peer processes: 2..32, or 0..16 with --web", {
      min: 0,
      max: 32,
      defaultText: "4; 2 with --web",
    }),
    duration: number("seconds of traffic", {
      default: 3,
      min: 0,
      max: 600,
      aboveMin: true,
      valueName: "SECONDS",
    }),
    stack: oneOf(
      "WebRTC stack of the peers; mixed: ndc and wrtc in turn (not --mixed: protocols)",
      STACK_CHOICES,
      "ndc",
    ),
    verbose: boolean("print every peer's log lines as they come"),
    godot4: boolean("peers speak Godot 4's protocol and drive a WebRTCMultiplayerPeer"),
    "client-server": boolean("with --godot4: a client/server lobby (peer 1 is the server)"),
    mixed: boolean(
      "alternate Godot 3 and Godot 4 peers in one mesh lobby (--stack mixed: WebRTC stacks)",
    ),
    web: boolean("run the browser demo instead (see demo/_web.ts)"),
    scene: boolean("with --godot4: the SceneMultiplayer server + bots demo (demo/_scene.ts)"),
    port: integer("port of the --web or --scene server; 0 picks a free one", {
      default: DEFAULT_PORT,
      min: 0,
      max: 65535,
    }),
    host: string("interface the --web or --scene server binds", "127.0.0.1", "ADDRESS"),
    ...ICE_FLAGS,
  },
  check: (
    values: {
      peers: number | undefined;
      web: boolean;
      godot4: boolean;
      "client-server": boolean;
      mixed: boolean;
      scene: boolean;
    } & IceFlagValues,
  ) => {
    const ice = checkIceFlags(values);
    if (ice !== undefined) return ice;
    if (values.scene && !values.godot4) return "--scene needs --godot4";
    if (values.scene && (values.mixed || values["client-server"])) {
      return "--scene runs its own client/server lobby: drop --client-server/--mixed";
    }
    if (values["client-server"] && !values.godot4) {
      return "--client-server needs --godot4 (Godot 3's protocol has no client/server lobbies)";
    }
    if (values.mixed && values.godot4) return "--mixed already mixes both protocols: drop --godot4";
    if (values.web && (values.mixed || values.godot4)) {
      return "--web has its own protocol switch on the page: drop --godot4/--mixed";
    }
    if (values.peers === undefined) return undefined;
    if (values.scene && (values.peers < 1 || values.peers > 16)) {
      return `--peers ${values.peers}: must be 1..16 with --scene`;
    }
    if (values.web && values.peers > 16) return `--peers ${values.peers}: must be 0..16 with --web`;
    if (!values.web && values.peers < 2) {
      return `--peers ${values.peers}: must be an integer in 2..32`;
    }
    return undefined;
  },
};

const args = readFlags(DEMO_COMMAND, Deno.args, { exit: Deno.exit });
// ICE flags go to every peer as they are (checked above, so a typo fails at once).
const peerIceArgs = iceArgs(args);
if (args.web) {
  const { runWebDemo } = await import("./_web.ts");
  Deno.exit(
    await runWebDemo({
      peers: args.peers ?? 2,
      hostname: args.host,
      port: args.port,
      stack: args.stack,
    }),
  );
}
if (args.scene) {
  const { runSceneDemo } = await import("./_scene.ts");
  Deno.exit(
    await runSceneDemo({
      bots: args.peers ?? 2,
      duration: args.duration,
      port: args.port,
      hostname: args.host,
    }),
  );
}
const peers = args.peers ?? 4;
const duration = args.duration;

const tty = Deno.stdout.isTerminal();
const started = performance.now();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
const peerScript = new URL("./peer.ts", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;

const serverLog: string[] = [];
const server = await serveSignalingDeno({ port: 0, log: (m) => serverLog.push(m) });
console.log(
  `signaling server on ${server.url}; starting ${peers} peers for ${duration} s of traffic`,
);

interface Proc {
  index: number;
  child: Deno.ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  id: number;
  status?: PeerStatus;
  result?: PeerResult;
  logs: string[];
  stderr: string;
  exited?: Deno.CommandStatus;
}

const procs: Proc[] = [];
/** Whether peer process `index` speaks Godot 4 (with --mixed: every second one, not the host). */
const godot4Peer = (index: number) => args.godot4 || (args.mixed && index % 2 === 1);
const shape = args["client-server"]
  ? "a client/server lobby (every client connected to the server)"
  : args.mixed
  ? "a full mesh of Godot 3 and Godot 4 peers"
  : "a full mesh";
const encoder = new TextEncoder();
let lobby: string | undefined;
const lobbyKnown = Promise.withResolvers<string>();

function spawn(index: number, lobbyName: string): Proc {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      peerScript,
      "--url",
      server.url,
      "--lobby",
      lobbyName,
      "--json",
      "--expect",
      String(peers),
      "--duration",
      String(duration),
      "--stack",
      stackOf(args.stack, index),
      ...peerIceArgs,
      ...(godot4Peer(index) ? ["--godot4"] : []),
      ...(args["client-server"] ? ["--client-server"] : []),
    ],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const proc: Proc = { index, child, stdin: child.stdin.getWriter(), id: 0, logs: [], stderr: "" };
  (async () => {
    for await (const line of lines(child.stdout)) onLine(proc, line);
  })();
  (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      proc.stderr += chunk;
    }
  })();
  child.status.then((s) => proc.exited = s);
  return proc;
}

function onLine(proc: Proc, line: string): void {
  let msg: { type: string; [k: string]: unknown };
  try {
    msg = JSON.parse(line);
  } catch {
    proc.logs.push(line);
    return;
  }
  switch (msg.type) {
    case "joined":
      proc.id = msg.id as number;
      if (proc.index === 0) lobbyKnown.resolve(msg.lobby as string);
      break;
    case "status":
      proc.status = msg as unknown as PeerStatus;
      break;
    case "result":
      proc.result = msg as unknown as PeerResult;
      break;
    case "log":
      proc.logs.push(`[${elapsed()}s] ${msg.text}`);
      if (args.verbose) console.log(`peer ${proc.id}: ${msg.text}`);
      break;
  }
}

const failures: string[] = [];
const deadlineMs = (duration + 30) * 1000;
let linesDrawn = 0;

function draw(final = false): void {
  const table = renderTable(procs, peers, elapsed());
  if (tty) {
    if (linesDrawn > 0) Deno.stdout.writeSync(encoder.encode(`\x1b[${linesDrawn}A\x1b[J`));
    console.log(table);
    linesDrawn = table.split("\n").length;
  } else if (final) {
    console.log(table);
  }
}

try {
  procs.push(spawn(0, ""));
  const first = await Promise.race([
    lobbyKnown.promise,
    procs[0].child.status.then(() => undefined),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 15000)),
  ]);
  if (first === undefined) throw new Error("the first peer did not create a lobby");
  lobby = first;
  console.log(`lobby ${lobby} created by peer 1`);
  for (let i = 1; i < peers; i++) procs.push(spawn(i, lobby));

  let lastPrint = 0;
  const until = performance.now() + deadlineMs;
  while (true) {
    const allResults = procs.every((p) => p.result !== undefined || p.exited !== undefined);
    if (allResults) break;
    if (performance.now() > until) {
      failures.push(`timed out after ${deadlineMs / 1000} s waiting for peer results`);
      break;
    }
    if (tty) draw();
    else if (performance.now() - lastPrint > 1000) {
      lastPrint = performance.now();
      const phases = procs.map((p) => p.status?.phase ?? "starting");
      const links = procs.map((p) => p.status?.peers.length ?? 0);
      console.log(`[${elapsed()}s] phases ${phases.join(",")}; connected ${links.join(",")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  draw(true);
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
} finally {
  // Everyone has reported (or failed): let the peers close, then stop the server.
  for (const p of procs) {
    await p.stdin.write(encoder.encode("quit\n")).catch(() => {});
    await p.stdin.close().catch(() => {});
  }
  const exits = Promise.all(procs.map((p) => p.child.status));
  const timeout = setTimeout(() => {
    for (const p of procs) {
      try {
        p.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }, 10000);
  await exits;
  clearTimeout(timeout);
  await server.shutdown();
}

for (const p of procs) {
  if (!p.result) {
    const why = p.exited ? `exited with code ${p.exited.code}` : "gave no result";
    failures.push(`peer #${p.index + 1} (id ${p.id || "?"}) ${why}`);
    const tail = [...p.logs.slice(-5), ...p.stderr.trim().split("\n").slice(-5)].filter(Boolean);
    for (const line of tail) failures.push(`    ${line}`);
  } else if (!p.result.ok) {
    for (const problem of p.result.problems) failures.push(`peer ${p.id}: ${problem}`);
  }
}

console.log(renderSummary(procs.map((p) => p.result).filter((r) => r !== undefined), peers));
if (failures.length > 0) {
  console.log(`\nFAILED after ${elapsed()} s:`);
  for (const f of failures) console.log(`  - ${f}`);
  Deno.exit(1);
}
console.log(`\nOK: ${peers} peers formed ${shape} and every packet arrived (${elapsed()} s)`);
Deno.exit(0);

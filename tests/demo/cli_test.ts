/**
 * The command lines as a user meets them: `deno task serve`, `peer` and `demo` (and the npm
 * package's `webrtc-mesh serve`, run here by Deno from source; `scripts/npm_test.ts` runs the packed
 * one under Node). `--help` prints every flag of the command's table with its default and exits 0;
 * a bad flag or value exits 2 with exactly one line on stderr and nothing on stdout.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { SERVE_COMMAND } from "../../signaling/cli.ts";
import { lines } from "../../demo/_lines.ts";
import { SERVE_FLAGS } from "../../signaling/_serve_cli.ts";
import { ICE_FLAGS } from "../../signaling/_ice_flags.ts";

const root = new URL("../../", import.meta.url).pathname;

const COMMANDS: Record<string, string[]> = {
  serve: ["signaling/cli.ts"],
  peer: ["demo/peer.ts"],
  demo: ["demo/main.ts"],
  "webrtc-mesh serve": ["signaling/cli_node.ts", "serve"],
};

async function run(script: string[], args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...script, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** The flag names a help text lists, in order. */
function listedFlags(help: string): string[] {
  return [...help.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1]);
}

const ICE_ROWS = Object.keys(ICE_FLAGS);

Deno.test("cli: --help on each command lists every flag with its default", async () => {
  const expected: Record<string, string[]> = {
    serve: Object.keys(SERVE_COMMAND.flags),
    peer: [
      "url",
      "lobby",
      "duration",
      "interval",
      "stack",
      "json",
      "godot4",
      "client-server",
      "expect",
      "connect-timeout",
      ...ICE_ROWS,
    ],
    demo: [
      "peers",
      "duration",
      "stack",
      "verbose",
      "godot4",
      "client-server",
      "mixed",
      "web",
      "scene",
      "port",
      "host",
      ...ICE_ROWS,
    ],
    // The npm command is the Node server: no --node, --web (needs the sources) or TURN REST
    // (GET /ice-servers is the Deno server's).
    "webrtc-mesh serve": Object.keys(SERVE_FLAGS),
  };
  for (const [name, script] of Object.entries(COMMANDS)) {
    const r = await run(script, ["--help"]);
    assertEquals([r.code, r.stderr], [0, ""], name);
    assertMatch(r.stdout, /^Usage: /, name);
    assertEquals(listedFlags(r.stdout), expected[name], name);
    for (const line of r.stdout.split("\n").filter((l) => /^ {2}--/.test(l))) {
      assertMatch(line, /\(default: [^)]+\)$/, `${name}: ${line}`);
    }
  }
  const serve = await run(COMMANDS.serve, ["-h"]);
  assertMatch(serve.stdout, /--port N +TCP port; 0 picks a free one \(default: 9080\)/);
  assertMatch(serve.stdout, /--log-level LEVEL +.*\(default: info\)/);
  const demo = await run(COMMANDS.demo, ["--help"]);
  assertMatch(demo.stdout, /--peers N +.*\(default: 4; 2 with --web\)/);
  assertMatch(demo.stdout, /--duration SECONDS +seconds of traffic \(default: 3\)/);
  const top = await run(["signaling/cli_node.ts"], ["--help"]);
  assertEquals(top.code, 0);
  assertMatch(top.stdout, /^Usage: webrtc-mesh <command>/);
});

Deno.test("cli: bad flags and values exit 2 with one clear line and no stack trace", async () => {
  const cases: [string, string[], string][] = [
    ["serve", ["--port", "70000"], "deno task serve: --port 70000: must be an integer in 0..65535"],
    ["serve", ["--bogus"], "deno task serve: unknown flag --bogus"],
    ["serve", ["--log-level", "debug"], "deno task serve: --log-level debug: must be one of"],
    ["serve", ["--quiet", "--log-level", "info"], "deno task serve: --quiet and --log-level"],
    ["serve", ["--node", "--web"], "deno task serve: --web needs the Deno server"],
    ["serve", ["--max-peers", "0"], "deno task serve: --max-peers 0: must be an integer in 1.."],
    ["peer", [], "deno task peer: --url is required"],
    ["peer", ["--url", "localhost:9080"], "deno task peer: --url localhost:9080: must be a ws://"],
    ["peer", ["--url", "ws://127.0.0.1:1", "--duration", "abc"], "deno task peer: --duration abc:"],
    ["demo", ["--peers", "0"], "deno task demo: --peers 0: must be an integer in 2..32"],
    ["demo", ["--peers", "40"], "deno task demo: --peers 40: must be an integer in 0..32"],
    ["demo", ["--duration", "abc"], "deno task demo: --duration abc: must be a number in (0, 600]"],
    ["demo", ["--web", "--peers", "20"], "deno task demo: --peers 20: must be 0..16 with --web"],
    ["demo", ["--scene"], "deno task demo: --scene needs --godot4"],
    [
      "demo",
      ["--scene", "--godot4", "--mixed"],
      "deno task demo: --scene runs its own client/server",
    ],
    ["demo", ["--scene", "--godot4", "--peers", "20"], "deno task demo: --peers 20: must be 1..16"],
    ["demo", ["--port", "70000"], "deno task demo: --port 70000: must be an integer in 0..65535"],
    ["demo", ["--peers"], "deno task demo: --peers needs a value"],
    ["demo", ["4"], "deno task demo: unexpected argument 4"],
    ["demo", ["--client-server"], "deno task demo: --client-server needs --godot4"],
    ["demo", ["--mixed", "--godot4"], "deno task demo: --mixed already mixes both protocols"],
    ["demo", ["--web", "--godot4"], "deno task demo: --web has its own protocol switch"],
    ["peer", ["--url", "ws://127.0.0.1:1", "--client-server"], "deno task peer: --client-server"],
    ["webrtc-mesh serve", ["--port", "70000"], "webrtc-mesh serve: --port 70000: must be an"],
    ["webrtc-mesh serve", ["--web"], "webrtc-mesh serve: unknown flag --web"],
  ];
  for (const [name, args, start] of cases) {
    const r = await run(COMMANDS[name], args);
    const what = `${name} ${args.join(" ")}: ${r.stderr}`;
    assertEquals(r.code, 2, what);
    assertEquals(r.stdout, "", what);
    assertEquals(r.stderr.split("\n"), [r.stderr.trimEnd(), ""], `one line: ${what}`);
    assertEquals(r.stderr.startsWith(start), true, what);
    assertMatch(r.stderr, /\(see --help\)\n$/, what);
  }
  for (const [args, line] of [[[], "no command given"], [["start"], "unknown command start"]]) {
    const r = await run(["signaling/cli_node.ts"], args as string[]);
    assertEquals([r.code, r.stdout, r.stderr], [2, "", `webrtc-mesh: ${line} (see --help)\n`]);
  }
});

/** Starts a server command, returns its first stdout line and the process. */
async function startServer(script: string[], args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...script, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const out = lines(child.stdout);
  const first = await out.next();
  return { child, out, first: first.done ? "" : first.value };
}

/** Kills a server left running by a failed test and waits for it. */
async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // exited
  }
  await child.stderr.cancel().catch(() => {});
  await child.status;
}

/** The server commands, with the name their messages use. */
const SERVERS: [string, string[]][] = [
  ["deno task serve", COMMANDS.serve],
  ["deno task serve --node", [...COMMANDS.serve, "--node"]],
  ["webrtc-mesh serve", COMMANDS["webrtc-mesh serve"]],
];

for (const [name, script] of SERVERS) {
  Deno.test(`cli: ${name} prints the listening URL first, logs by level, stops on SIGINT`, async () => {
    for (
      const [flags, wantInfo] of [[[], true], [["--quiet"], false], [
        ["--log-level", "warn"],
        false,
      ]] as const
    ) {
      const { child, out, first } = await startServer(script, ["--port", "0", ...flags]);
      try {
        const m = /^signaling server listening on (ws:\/\/127\.0\.0\.1:(\d+))( \(node:http\))?$/
          .exec(
            first,
          );
        assertEquals(m !== null, true, `first line: ${first}`);
        // A client creates a lobby: an info event ("Lobby ... created").
        const ws = new WebSocket(m![1]);
        await new Promise((r) => ws.onopen = r);
        const got = new Promise<string>((r) => ws.onmessage = (e) => r(String(e.data)));
        ws.send("J: \n");
        await got;
        ws.close();
        await new Promise((r) => ws.onclose = r);
        child.kill("SIGINT");
        const rest: string[] = [];
        for await (const line of out) rest.push(line);
        const status = await child.status;
        assertEquals(status.code, 0, rest.join("\n"));
        const created = rest.some((l) => /^\[\d{4}-[^\]]+\] Lobby \w+ created/.test(l));
        assertEquals(created, wantInfo, `${flags.join(" ")}: ${rest.join(" | ")}`);
      } finally {
        await stop(child);
      }
    }
  });
}

Deno.test("cli: serve on a port in use exits 1 with one line", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String((listener.addr as Deno.NetAddr).port);
    for (const [name, script] of SERVERS) {
      const r = await run(script, ["--port", port]);
      assertEquals(r.code, 1, r.stderr);
      assertEquals(r.stdout, "");
      assertMatch(
        r.stderr,
        new RegExp(
          `^${name.replace(" --node", "")}: cannot listen on 127\\.0\\.0\\.1:${port}: [^\\n]+\\n$`,
        ),
      );
    }
  } finally {
    listener.close();
  }
});

Deno.test("cli: serve --web prints the listening URL first, and the page is there already", async () => {
  const { child, out, first } = await startServer(COMMANDS.serve, ["--port", "0", "--web"]);
  try {
    const url = /^signaling server listening on ws:\/\/(127\.0\.0\.1:\d+)$/.exec(first)?.[1];
    assertEquals(url !== undefined, true, first);
    // Fetched at once: the build happened before the server started listening.
    const page = await fetch(`http://${url}/`);
    assertEquals([page.status, (await page.text()).includes("app.js")], [200, true]);
    const app = await fetch(`http://${url}/dist/app.js`);
    assertEquals(app.status, 200);
    await app.body?.cancel();
    const next = await out.next();
    assertMatch(next.value ?? "", /^built web\/dist\/app\.js \(\d+ KiB\)$/);
    child.kill("SIGINT");
    for await (const _ of out) { /* drain */ }
    assertEquals((await child.status).code, 0);
  } finally {
    await stop(child);
  }
});

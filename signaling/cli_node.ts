#!/usr/bin/env node
/**
 * The npm package's command, `webrtc-mesh` (Node 20+):
 *
 * ```sh
 * npx webrtc-mesh serve [--host 127.0.0.1] [--port 9080] [--log-level info|warn|error|silent]
 *                       [--quiet] [--max-peers N] [--max-lobbies N]
 *                       [--redis redis://HOST:PORT] [--metrics] [--log text|json]
 * npx webrtc-mesh serve --help
 * ```
 *
 * `serve` runs the signaling server on `node:http` with the flags of `deno task serve`
 * (`--node` is implied; `--web` needs the sources, so it is Deno's only). Bad flags exit 2 with one
 * line; the first line printed is `signaling server listening on ws://HOST:PORT`.
 *
 * @module
 */
import { readFlags } from "./_flags.ts";
import { checkServeFlags, runServe, SERVE_FLAGS } from "./_serve_cli.ts";
import { serveSignalingNode } from "./server_node.ts";

/** The part of Node's `process` this file uses (the npm build has no Node types). */
interface NodeProcess {
  argv: string[];
  exit(code: number): never;
  on(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
}

const USAGE = `Usage: webrtc-mesh <command> [flags]

Commands:
  serve   run the signaling server (webrtc-mesh serve --help lists its flags)`;

/** `webrtc-mesh serve`'s command line. */
const NODE_SERVE_COMMAND = {
  name: "webrtc-mesh serve",
  summary:
    "Runs the signaling server (Godot 3 and Godot 4 demo protocols, node:http) until Ctrl-C.",
  flags: SERVE_FLAGS,
  check: checkServeFlags,
};

/** Runs `webrtc-mesh` with `argv` (without node and the script). */
async function main(argv: readonly string[], proc: NodeProcess): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help") {
    console.log(USAGE);
    return proc.exit(0);
  }
  if (command !== "serve") {
    console.error(
      command === undefined
        ? "webrtc-mesh: no command given (see --help)"
        : `webrtc-mesh: unknown command ${command} (see --help)`,
    );
    return proc.exit(2);
  }
  const exit = (code: number) => proc.exit(code);
  const values = readFlags(NODE_SERVE_COMMAND, rest, { exit });
  await runServe(NODE_SERVE_COMMAND.name, values, {
    start: serveSignalingNode,
    onStop: (handler) => {
      proc.on("SIGINT", handler);
      proc.on("SIGTERM", handler);
    },
    exit,
  });
}

const proc = (globalThis as unknown as { process: NodeProcess }).process;
await main(proc.argv.slice(2), proc);

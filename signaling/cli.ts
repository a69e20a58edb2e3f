/**
 * `deno task serve`: runs the signaling server until interrupted. `--help` lists every flag with
 * its default; the npm package's `webrtc-mesh serve` takes the same flags but `--node`, `--web` and
 * the TURN ones (see `_serve_cli.ts`).
 *
 * ```sh
 * deno task serve [--host 127.0.0.1] [--port 9080] [--log-level info|warn|error|silent] [--quiet]
 *                 [--max-peers N] [--max-lobbies N] [--idle-timeout MS] [--node] [--web]
 *                 [--redis redis://HOST:PORT] [--metrics] [--log text|json]
 *                 [--turn-secret SECRET --turn turn:HOST:PORT [--stun stun:HOST:PORT] [--turn-ttl S]]
 * ```
 *
 * The first line printed is `signaling server listening on ws://HOST:PORT`. `--node` uses the
 * Node server's entry point (`serveSignalingNode`) instead of the Deno server's; both run the same
 * `node:http` server with the same WebSocket framing, and only the Deno server serves `--web`. `--web` builds the browser demo (`web/`,
 * see `scripts/build_web.ts`) and serves it on the same port: open the printed `http://` address.
 *
 * `--turn-secret SECRET --turn turn:HOST:PORT [--stun stun:HOST:PORT]` hands clients their ICE
 * servers at `GET /ice-servers`, with time-limited TURN credentials made from the secret coturn
 * shares (`use-auth-secret`); `--turn-ttl S` sets their lifetime (default 3600).
 *
 * @module
 */
import { boolean, integer, list, readFlags, string } from "./_flags.ts";
import { checkServeFlags, runServe, SERVE_FLAGS } from "./_serve_cli.ts";
import { serveSignalingDeno } from "./server_deno.ts";
import { restIceServers } from "./ice.ts";

/** Refuses a url whose scheme is not one of `schemes` (a `check` of {@link list}). */
function scheme(...schemes: string[]): (text: string) => void {
  return (text) => {
    if (!schemes.some((s) => text.startsWith(`${s}:`))) {
      throw new Error(`must be a ${schemes.map((s) => `${s}:`).join(" or ")} url`);
    }
  };
}

/** `deno task serve`'s command line. */
export const SERVE_COMMAND = {
  name: "deno task serve",
  summary: "Runs the signaling server (Godot 3 and Godot 4 demo protocols, one port) until Ctrl-C.",
  flags: {
    ...SERVE_FLAGS,
    node: boolean(
      "use the Node server's entry point (node:http, no --web) instead of the Deno server's",
    ),
    web: boolean("also build and serve the browser demo page on the same port"),
    stun: list(
      "a STUN server handed out at GET /ice-servers; may repeat",
      "URL",
      scheme("stun", "stuns"),
    ),
    turn: list(
      "a TURN server (no credentials) handed out with time-limited ones; may repeat",
      "URL",
      scheme("turn", "turns"),
    ),
    "turn-secret": string(
      "the secret shared with coturn (static-auth-secret)",
      undefined,
      "SECRET",
    ),
    "turn-ttl": integer("lifetime of handed-out TURN credentials", {
      default: 3600,
      min: 1,
      max: 7 * 86400,
      valueName: "SECONDS",
    }),
  },
  check: (
    values: { node: boolean; web: boolean; turn: string[]; "turn-secret": string | undefined },
    given: ReadonlySet<string>,
  ) => {
    if (values.node && values.web) return "--web needs the Deno server: drop --node";
    if ((values.turn.length > 0) !== (values["turn-secret"] !== undefined)) {
      return "--turn and --turn-secret go together (time-limited TURN credentials)";
    }
    return checkServeFlags(values, given);
  },
};

if (import.meta.main) {
  const args = readFlags(SERVE_COMMAND, Deno.args, { exit: Deno.exit });
  const iceServers = args["turn-secret"] === undefined ? undefined : restIceServers({
    stun: args.stun,
    turn: args.turn,
    secret: args["turn-secret"],
    ttlSeconds: args["turn-ttl"],
  });
  await runServe(SERVE_COMMAND.name, args, {
    start: args.node
      ? async (options) => (await import("./server_node.ts")).serveSignalingNode(options)
      : serveSignalingDeno,
    note: args.node ? " (node:http)" : undefined,
    extra: {
      ...(args.web ? { staticDir: new URL("../web/", import.meta.url) } : {}),
      ...(iceServers ? { iceServers } : {}),
    },
    prepare: args.web
      ? async () => {
        const { buildWeb } = await import("../scripts/build_web.ts");
        const build = await buildWeb();
        return (running) => [
          `built web/dist/app.js (${(build.bytes / 1024).toFixed(0)} KiB)`,
          `demo page: open ${running.httpUrl} in a browser`,
        ];
      }
      : undefined,
    onStop: (handler) => {
      Deno.addSignalListener("SIGINT", handler);
      Deno.addSignalListener("SIGTERM", handler);
    },
    exit: Deno.exit,
  });
}

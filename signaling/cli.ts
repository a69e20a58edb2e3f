/**
 * `deno task serve`: runs the signaling server until interrupted. `--help` lists every flag with
 * its default; the npm package's `webrtc-mesh serve` takes the same flags but `--node` and `--web`
 * (see `_serve_cli.ts`).
 *
 * ```sh
 * deno task serve [--host 127.0.0.1] [--port 9080] [--log-level info|warn|error|silent] [--quiet]
 *                 [--max-peers N] [--max-lobbies N] [--node] [--web]
 * ```
 *
 * The first line printed is `signaling server listening on ws://HOST:PORT`. `--node` uses the
 * `ws` package (the Node server) instead of `Deno.serve`. `--web` builds the browser demo (`web/`,
 * see `scripts/build_web.ts`) and serves it on the same port: open the printed `http://` address.
 *
 * @module
 */
import { boolean, readFlags } from "./_flags.ts";
import { checkServeFlags, runServe, SERVE_FLAGS } from "./_serve_cli.ts";
import { serveSignalingDeno } from "./server_deno.ts";

/** `deno task serve`'s command line. */
export const SERVE_COMMAND = {
  name: "deno task serve",
  summary: "Runs the signaling server (Godot 3 and Godot 4 demo protocols, one port) until Ctrl-C.",
  flags: {
    ...SERVE_FLAGS,
    node: boolean("use the ws package (the Node server) instead of Deno.serve"),
    web: boolean("also build and serve the browser demo page on the same port"),
  },
  check: (values: { node: boolean; web: boolean }, given: ReadonlySet<string>) =>
    values.node && values.web
      ? "--web needs the Deno server: drop --node"
      : checkServeFlags(values, given),
};

if (import.meta.main) {
  const args = readFlags(SERVE_COMMAND, Deno.args, { exit: Deno.exit });
  await runServe(SERVE_COMMAND.name, args, {
    start: args.node
      ? async (options) => (await import("./server_node.ts")).serveSignalingNode(options)
      : serveSignalingDeno,
    note: args.node ? " (ws)" : undefined,
    extra: args.web ? { staticDir: new URL("../web/", import.meta.url) } : undefined,
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

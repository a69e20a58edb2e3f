/**
 * `deno task serve`: runs the signaling server until interrupted.
 *
 * ```sh
 * deno task serve [--host 127.0.0.1] [--port 9080] [--node] [--web] [--max-peers N] [--max-lobbies N]
 * ```
 *
 * `--node` uses the `ws` package (the Node server) instead of `Deno.serve`. `--web` builds the
 * browser demo (`web/`, see `scripts/build_web.ts`) and serves it on the same port: open the
 * printed `http://` address in a browser.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { serveSignalingDeno } from "./server_deno.ts";
import { DEFAULT_PORT } from "./protocol.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: String(DEFAULT_PORT) },
    node: { type: "boolean", default: false },
    web: { type: "boolean", default: false },
    "max-peers": { type: "string" },
    "max-lobbies": { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});

if (args.node && args.web) {
  console.error("--web needs the Deno server (drop --node)");
  Deno.exit(2);
}
if (args.web) {
  const { buildWeb } = await import("../scripts/build_web.ts");
  const build = await buildWeb();
  console.log(`built web/dist/app.js (${(build.bytes / 1024).toFixed(0)} KiB)`);
}

const limits: Record<string, number> = {};
if (args["max-peers"]) limits.maxPeers = Number(args["max-peers"]);
if (args["max-lobbies"]) limits.maxLobbies = Number(args["max-lobbies"]);
const options = {
  hostname: args.host,
  port: Number(args.port),
  limits,
  staticDir: args.web ? new URL("../web/", import.meta.url) : undefined,
  log: args.quiet ? undefined : (m: string) => console.log(`[${new Date().toISOString()}] ${m}`),
};
const running = args.node
  ? await (await import("./server_node.ts")).serveSignalingNode(options)
  : await serveSignalingDeno(options);
console.log(`signaling server listening on ${running.url}${args.node ? " (ws)" : ""}`);
if (running.httpUrl) console.log(`demo page: open ${running.httpUrl} in a browser`);
Deno.addSignalListener("SIGINT", async () => {
  console.log("shutting down");
  await running.shutdown();
  Deno.exit(0);
});

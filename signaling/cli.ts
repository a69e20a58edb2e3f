/**
 * `deno task serve`: runs the signaling server until interrupted.
 *
 * ```sh
 * deno task serve [--host 127.0.0.1] [--port 9080] [--node] [--web] [--max-peers N] [--max-lobbies N]
 *                  [--idle-timeout MS]   (a client silent that long is dropped; default 8000, 0 off)
 * ```
 *
 * `--turn-secret SECRET --turn turn:HOST:PORT [--stun stun:HOST:PORT]` hands clients their ICE
 * servers at `GET /ice-servers`, with time-limited TURN credentials made from the secret coturn
 * shares (`use-auth-secret`); `--turn-ttl S` sets their lifetime (default 3600).
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
import { restIceServers } from "./ice.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: String(DEFAULT_PORT) },
    node: { type: "boolean", default: false },
    web: { type: "boolean", default: false },
    "max-peers": { type: "string" },
    "max-lobbies": { type: "string" },
    "idle-timeout": { type: "string" },
    quiet: { type: "boolean", default: false },
    stun: { type: "string", multiple: true },
    turn: { type: "string", multiple: true },
    "turn-secret": { type: "string" },
    "turn-ttl": { type: "string", default: "3600" },
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
if ((args.turn?.length ?? 0) > 0 !== (args["turn-secret"] !== undefined)) {
  console.error("--turn and --turn-secret go together (time-limited TURN credentials)");
  Deno.exit(2);
}
if (args.node && args["turn-secret"]) {
  console.error("--turn-secret needs the Deno server (drop --node)");
  Deno.exit(2);
}
const iceServers = args["turn-secret"]
  ? restIceServers({
    stun: args.stun,
    turn: args.turn ?? [],
    secret: args["turn-secret"],
    ttlSeconds: Number(args["turn-ttl"]),
  })
  : undefined;
const options = {
  iceServers,
  hostname: args.host,
  port: Number(args.port),
  limits,
  idleTimeoutMs: args["idle-timeout"] === undefined ? undefined : Number(args["idle-timeout"]),
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

/**
 * Entry point for the Node run of the `ws` server (bundled by `server_node_test.ts` with esbuild,
 * then run by `node`): serves on a free loopback port, prints the URL, stops when stdin closes.
 *
 * @module
 */
import process from "node:process";
import { serveSignalingNode } from "../../signaling/server_node.ts";

const running = await serveSignalingNode({ port: 0, limits: { joinTimeoutMs: 500 } });
process.stdout.write(`${running.url}\n`);
process.stdin.resume();
process.stdin.on("end", async () => {
  await running.shutdown();
  process.stdout.write("stopped\n");
  process.exit(0);
});

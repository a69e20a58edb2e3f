/**
 * The signaling server in a process of its own, for hostility tests that measure its memory.
 * The first argument is the join timeout in ms (default 3000). Prints its URL, then answers each line on standard input: `mem` prints
 * `{"heapUsed", "rss", "connections", "lobbies"}` after garbage collection (run with
 * `--v8-flags=--expose-gc`), `quit` shuts the server down. Not a test file.
 *
 * @module
 */
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { lines } from "../../demo/_lines.ts";

// A join timeout of 3 s instead of 1 s: under a handshake storm on a busy machine an honest
// client's `J:` can take over a second, and this process is about hostility, not that limit.
const server = await serveSignalingDeno({
  port: 0,
  limits: { joinTimeoutMs: Number(Deno.args[0] ?? 3000) },
});
console.log(server.url);
const gc = (globalThis as { gc?: () => void }).gc;
for await (const line of lines(Deno.stdin.readable)) {
  const command = line.trim();
  if (command === "mem") {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    const { heapUsed, rss } = Deno.memoryUsage();
    const { connections, lobbies } = server.server.state;
    console.log(JSON.stringify({
      heapUsed,
      rss,
      connections: connections.size,
      lobbies: lobbies.size,
    }));
  } else if (command === "quit") break;
}
await server.shutdown();

/**
 * The server side of the relay benchmark (`bench/_relay.ts`): starts a signaling server on a free
 * loopback port with limits large enough for the load, prints its URL, then answers commands on
 * stdin, one per line: `gc` runs a full garbage collection (when the runtime exposes it) and
 * prints `rss <bytes>`; end of input stops the server.
 *
 * @module
 */
import process from "node:process";
import { readFileSync } from "node:fs";

/** Limits for the benchmark: room for 10,000 idle sockets in 5,000 lobbies. */
export const BENCH_LIMITS = {
  maxPeers: 20000,
  maxLobbies: 10000,
} as const;

/** Resident set size of this process in bytes, from /proc. */
export function rssBytes(): number {
  const status = readFileSync("/proc/self/status", "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return kb * 1024;
}

/** Prints `url`, serves the stdin commands, calls `stop` when stdin ends. */
export function runBenchServer(url: string, stop: () => Promise<void>): void {
  process.stdout.write(`${url}\n`);
  let buffered = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const command = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (command === "gc") {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        gc?.();
        process.stdout.write(`rss ${rssBytes()}\n`);
      }
    }
  });
  process.stdin.on("end", async () => {
    await stop();
    process.exit(0);
  });
}

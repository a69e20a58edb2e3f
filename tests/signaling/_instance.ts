/**
 * A signaling server instance in a process of its own (`deno task serve` with `--redis`), for the
 * cluster tests that SIGKILL one. It runs under `timeout -s KILL`, so it stops by itself even if
 * the test process dies. Not a test file.
 *
 * @module
 */
import { lines } from "../../demo/_lines.ts";

/** Longest life of a test instance, s. */
const LIFETIME_S = 90;

/** A running instance. */
export interface Instance {
  /** `ws://127.0.0.1:PORT`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`. */
  readonly http: string;
  /** Every log line (JSON, `--log json`) printed after the listening line. */
  readonly log: Record<string, unknown>[];
  /** SIGKILLs the server process itself (no goodbye to anyone). */
  kill(): Promise<void>;
  /** SIGTERM (a clean shutdown). */
  stop(): Promise<void>;
}

/** Starts `signaling/cli.ts --port 0 --log json --metrics --redis URL` plus `extra` flags. */
export async function startInstance(redis: string, extra: string[] = []): Promise<Instance> {
  const child = new Deno.Command("timeout", {
    args: [
      "-s",
      "KILL",
      String(LIFETIME_S),
      "setpriv", // the server dies with its `timeout` too, whatever kills that
      "--pdeathsig",
      "KILL",
      Deno.execPath(),
      "run",
      "-A",
      new URL("../../signaling/cli.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--log",
      "json",
      "--metrics",
      "--redis",
      redis,
      ...extra,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: Record<string, unknown>[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>, first?: (line: string) => void) => {
    for await (const line of lines(stream)) {
      if (first && line.startsWith("signaling server listening on ")) {
        first(line);
        continue;
      }
      try {
        log.push(JSON.parse(line));
      } catch {
        log.push({ text: line });
      }
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("instance did not start in 20 s")), 20000);
    void keep(child.stdout, (line) => {
      clearTimeout(timer);
      resolve(line.slice("signaling server listening on ".length).split(" ")[0]);
    }).then(() => {
      clearTimeout(timer);
      reject(new Error(`instance exited: ${JSON.stringify(log)}`));
    });
    void keep(child.stderr);
  });
  // The server is `timeout`'s child: SIGKILL must reach it, not the wrapper.
  const serverPid = async () => {
    const text = await Deno.readTextFile(`/proc/${child.pid}/task/${child.pid}/children`)
      .catch(() => "");
    return Number(text.trim().split(/\s+/)[0]) || undefined;
  };
  return {
    url,
    http: url.replace(/^ws:/, "http:"),
    log,
    async kill() {
      const pid = await serverPid();
      if (pid !== undefined) Deno.kill(pid, "SIGKILL");
      await child.status;
    },
    async stop() {
      const pid = await serverPid();
      if (pid !== undefined) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch {
          // gone
        }
      }
      await child.status;
    },
  };
}

/**
 * A real `redis-server` for the cluster tests, on a free loopback port, with nothing saved to disk
 * (`--save "" --appendonly no`). It stops by itself: it runs under `timeout -s KILL`, so a test
 * process that dies cannot leave it behind, and with `setpriv --pdeathsig KILL`, so it dies with
 * that `timeout` if something kills it first (a bench process killed on its stop timer once left
 * three redis-servers running that way). `scripts/ensure_redis.sh` installs it (npm test's
 * pretest step). Not a test file.
 *
 * @module
 */

/** How long a test's redis-server may live at most, s. */
const LIFETIME_S = 120;

/** A running redis-server. */
export interface RedisProcess {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Its port. */
  readonly port: number;
  /** Stops it (nothing is saved: every key is lost) and waits until its port is free. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty). */
  restart(): Promise<void>;
}

/** A loopback port nobody listens on now (redis-server takes no port 0). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function which(name: string): Promise<boolean> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .output();
  return out.success;
}

/**
 * Starts a redis-server that lives at most `lifetimeS` seconds (default 120); throws with a
 * one-line reason if it is not installed.
 */
export async function startRedis(lifetimeS = LIFETIME_S): Promise<RedisProcess> {
  if (!(await which("redis-server"))) {
    throw new Error("redis-server is not installed (bash scripts/ensure_redis.sh installs it)");
  }
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  const spawn = async () => {
    child = new Deno.Command("timeout", {
      args: [
        "-s",
        "KILL",
        String(lifetimeS),
        // Dies with its `timeout` too (a killed parent would leave it orphaned for good).
        "setpriv",
        "--pdeathsig",
        "KILL",
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--loglevel",
        "warning",
      ],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const end = Date.now() + 5000;
    for (;;) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
        return;
      } catch {
        if (Date.now() > end) throw new Error(`redis-server did not listen on ${port} within 5 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const stop = async () => {
    if (!child) return;
    // `timeout` passes SIGTERM on to its redis-server (which then exits without saving).
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    child = undefined;
    const end = Date.now() + 3000;
    while (Date.now() < end) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        await new Promise((r) => setTimeout(r, 20));
      } catch {
        return;
      }
    }
  };
  await spawn();
  return { url: `redis://127.0.0.1:${port}`, port, stop, restart: spawn };
}

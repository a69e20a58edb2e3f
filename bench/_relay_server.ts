/**
 * The server side of the relay benchmark (`./_relay.ts`): how a server under test is described
 * ({@link RelayTarget}) and run in a process of its own ({@link ServerProcess}: started, its URL
 * read or its port awaited, its RSS and CPU time read from /proc, a GC asked for on stdin,
 * stopped by closing stdin), and a CPU profile of it taken over the inspector protocol.
 *
 * @module
 */

/** The repository root (ends in `/`): where a server runs unless its target says otherwise. */
export const root = new URL("../", import.meta.url).pathname;

/** How a server under test is started. */
export interface RelayTarget {
  /** Row name. */
  readonly name: string;
  /** The command; it prints its URL on stdout (or `port` is given) and stops when stdin ends. */
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** For servers that print nothing: the port they listen on (127.0.0.1). */
  readonly port?: number;
  /** Whether it answers the `gc` command of `_relay_entry.ts`. */
  readonly gc: boolean;
  /** Whether the idle-socket measurement applies (default: when `gc`). */
  readonly idle?: boolean;
  /**
   * With `--inspect=127.0.0.1:<port>` in `args`: the port, and the file the relay load's CPU
   * profile (`.cpuprofile`, read over the inspector protocol) is written to.
   */
  readonly inspect?: { readonly port: number; readonly profile: string };
}

/** A server process under test. */
export class ServerProcess {
  readonly url: string;
  /** Where guests join: a second instance sharing lobbies with the first, or `url`. */
  readonly guestUrl: string;
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #buffer = "";

  private constructor(
    url: string,
    child: Deno.ChildProcess,
    lines: ReadableStreamDefaultReader<string>,
    buffer: string,
  ) {
    // A server that prints two URLs is two instances: hosts join the first, guests the second.
    const [first, second] = url.split(/\s+/);
    this.url = first;
    this.guestUrl = second ?? first;
    this.#child = child;
    this.#lines = lines;
    this.#buffer = buffer;
    this.#stdin = child.stdin.getWriter();
  }

  get pid(): number {
    return this.#child.pid;
  }

  static async start(target: RelayTarget): Promise<ServerProcess> {
    const child = new Deno.Command(target.cmd, {
      args: [...target.args],
      cwd: target.cwd ?? root,
      env: target.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    if (target.port !== undefined) {
      const url = `ws://127.0.0.1:${target.port}`;
      await waitListening(target.port);
      return new ServerProcess(url, child, lines, "");
    }
    let buffer = "";
    while (!buffer.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`${target.name} exited before printing its URL`);
      buffer += value;
    }
    const nl = buffer.indexOf("\n");
    return new ServerProcess(buffer.slice(0, nl).trim(), child, lines, buffer.slice(nl + 1));
  }

  /** Runs a GC in the server and returns its RSS in bytes. */
  async gcRss(): Promise<number> {
    await this.#stdin.write(new TextEncoder().encode("gc\n"));
    while (true) {
      const m = /rss (\d+)\n/.exec(this.#buffer);
      if (m) {
        this.#buffer = this.#buffer.slice(m.index + m[0].length);
        return Number(m[1]);
      }
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("server exited");
      this.#buffer += value;
    }
  }

  /** RSS in bytes, read from /proc (no GC). */
  rss(): number {
    const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0") * 1024;
  }

  /** CPU time of every thread of the process, ns. */
  cpuNs(): number {
    let total = 0;
    for (const task of Deno.readDirSync(`/proc/${this.pid}/task`)) {
      try {
        const text = Deno.readTextFileSync(`/proc/${this.pid}/task/${task.name}/schedstat`);
        total += Number(text.split(" ")[0]);
      } catch {
        // the thread ended
      }
    }
    return total;
  }

  /** User and system CPU time of the whole process, ms (clock ticks of 10 ms, /proc/<pid>/stat). */
  userSysMs(): [number, number] {
    const stat = Deno.readTextFileSync(`/proc/${this.pid}/stat`);
    // Fields after the command name (which may hold spaces): utime and stime are the 12th, 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return [Number(fields[11]) * 10, Number(fields[12]) * 10];
  }

  async stop(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch {
      // already closed
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // gone
      }
    }, 3000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#lines.cancel().catch(() => {});
  }
}

async function waitListening(port: number): Promise<void> {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** A CPU profile taken over the inspector protocol (Deno has no `--cpu-prof`). */
export async function startProfile(port: number): Promise<() => Promise<unknown>> {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(list[0].webSocketDebuggerUrl);
  await new Promise((r) => ws.onopen = r);
  let id = 0;
  const replies = new Map<number, (result: unknown) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data));
    replies.get(m.id)?.(m.result);
  };
  const call = (method: string, params = {}) =>
    new Promise<unknown>((resolve) => {
      replies.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  return async () => {
    const result = await call("Profiler.stop") as { profile: unknown };
    ws.close();
    return result.profile;
  };
}

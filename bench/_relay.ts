/**
 * The relay benchmark: what a signaling server costs per relayed frame. Each server runs in a
 * process of its own, started here; this process is the load: `lobbies` lobbies of a host and a
 * guest on Godot 3's text protocol, every guest sending `rate` candidate frames per second to its
 * host for `seconds` seconds, paced (each lobby at its own phase inside the period, late timers
 * catch up). Measured per server, in one run:
 *
 * - CPU µs per relayed frame: the server process's CPU time (every thread, ns from
 *   `/proc/<pid>/task/<tid>/schedstat`) from the first frame sent until the last one arrived,
 *   over the frames the hosts received.
 * - Relay latency p50/p99: send to arrival, both stamped here (`performance.now`), so it includes
 *   this process's own event-loop delay, equally for every server.
 * - Idle sockets (`idleSockets`): RSS per socket after a full GC with `n` joined, idle sockets
 *   (n/2 lobbies of 2), the time to open them, and the server's CPU per second while they idle.
 *
 * Servers: this project's Deno and Node servers, a bare relay on `ws` (the floor, `_relay_bare.ts`)
 * and optionally any other Godot 3 server started by a command (Godot's own demo server, which is
 * never part of this repo: see BENCHMARKS.md for how it was run). Each runs as a
 * `ServerProcess` (`./_relay_server.ts`); this file is the load and the measurements.
 *
 * @module
 */
import { quantile } from "./_report.ts";
import { type RelayTarget, root, ServerProcess, startProfile } from "./_relay_server.ts";

export type { RelayTarget } from "./_relay_server.ts";

/** The load of one relay measurement. */
export interface RelayLoad {
  readonly lobbies: number;
  /** Frames per second per guest. */
  readonly rate: number;
  readonly seconds: number;
}

/** One server's relay result. */
export interface RelayResult {
  readonly name: string;
  readonly sent: number;
  readonly relayed: number;
  /** Server CPU time over the load, ms. */
  readonly cpuMs: number;
  readonly cpuUsPerFrame: number;
  /** Of the CPU per frame, the part spent in the kernel (system time, /proc/<pid>/stat), µs. */
  readonly sysUsPerFrame?: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Wall time from the first frame sent to the last arrival, ms. */
  readonly wallMs: number;
  /** Joins per second while the lobbies formed (50 at a time, host then guest). */
  readonly joinsPerSec?: number;
  /** /proc/loadavg (1 min) when the load started and ended. */
  readonly load: readonly [number, number];
}

/** One server's idle-socket result. */
export interface IdleResult {
  readonly name: string;
  readonly sockets: number;
  readonly bytesPerSocket: number;
  readonly openMs: number;
  /** Server CPU per second while the sockets idle, ms. */
  readonly idleCpuMsPerSec: number;
  /** How long they idled, s. */
  readonly idleSeconds?: number;
  /** Sockets still open after the idle period (all of them, unless the server closed some). */
  readonly stillOpen: number;
}

const deno = `${root}node_modules/deno/deno`;

/**
 * Bundles a Node entry with esbuild (ws and the packages in `external` stay external: native
 * addons, and packages Node loads from node_modules as they are); returns the bundle's path.
 * `tree`: the source tree it is taken from (default this one; see {@link beforeTargets}).
 */
export async function bundleForNode(
  entry: string,
  tree = root,
  external: string[] = [],
): Promise<string> {
  const out = `${tree}.test-results/${entry.replace(/^.*\//, "").replace(/\.ts$/, "")}.mjs`;
  await Deno.mkdir(`${tree}.test-results`, { recursive: true });
  const build = await new Deno.Command(`${root}node_modules/.bin/esbuild`, {
    args: [
      `${tree}${entry}`,
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      "--external:ws",
      ...external.map((e) => `--external:${e}`),
      `--outfile=${out}`,
      "--log-level=warning",
    ],
    stderr: "piped",
  }).output();
  if (build.code !== 0) throw new Error(new TextDecoder().decode(build.stderr));
  return out;
}

/**
 * The three servers of this repo's benchmark: Deno, Node, bare `ws` relay. `profileDir` runs
 * Node ones with `--cpu-prof` into that folder (Deno's is read over the inspector by the caller).
 */
export async function ourTargets(profileDir?: string): Promise<RelayTarget[]> {
  const prof = profileDir === undefined
    ? []
    : ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${profileDir}`];
  const inspect = profileDir === undefined
    ? undefined
    : { port: 9339, profile: `${profileDir}/deno-server.cpuprofile` };
  return [
    {
      name: "Deno server",
      cmd: deno,
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        ...(inspect ? [`--inspect=127.0.0.1:${inspect.port}`] : []),
        `${root}bench/_relay_deno.ts`,
      ],
      gc: true,
      inspect,
    },
    {
      name: "Node server",
      cmd: "node",
      args: ["--expose-gc", ...prof, await bundleForNode("bench/_relay_node.ts")],
      gc: true,
    },
    {
      name: "bare ws relay (floor)",
      cmd: "node",
      args: ["--expose-gc", ...prof, await bundleForNode("bench/_relay_bare.ts")],
      gc: true,
    },
  ];
}

/**
 * The Deno and the Node server of an earlier source tree (`dir`: an export of an earlier commit,
 * e.g. `git archive COMMIT | tar -x -C DIR`, with `node_modules` linked to this one's), as rows
 * named "... (before)", so that before and after are measured in one run, interleaved.
 */
export async function beforeTargets(dir: string): Promise<RelayTarget[]> {
  const tree = dir.endsWith("/") ? dir : `${dir}/`;
  return [
    {
      name: "Deno server (before)",
      cmd: deno,
      args: ["run", "-A", "--v8-flags=--expose-gc", `${tree}bench/_relay_deno.ts`],
      cwd: tree,
      gc: true,
    },
    {
      name: "Node server (before)",
      cmd: "node",
      args: ["--expose-gc", await bundleForNode("bench/_relay_node.ts", tree)],
      cwd: tree,
      gc: true,
    },
  ];
}

/**
 * Two Deno instances sharing lobbies through a redis-server (`bench/_relay_redis.ts`): every host
 * joins the first, every guest the second, so each relayed frame crosses Redis pub/sub once.
 */
export function redisTarget(): RelayTarget {
  return {
    name: "2 Deno instances through Redis",
    cmd: deno,
    args: ["run", "-A", "--v8-flags=--expose-gc", `${root}bench/_relay_redis.ts`],
    gc: true,
  };
}

/** 1-minute load average. */
export function loadAverage(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

/** A client socket with a queue of its text frames. */
class Client {
  readonly ws: WebSocket;
  #waiting: ((text: string) => void)[] = [];
  #queued: string[] = [];
  onFrame: ((text: string) => void) | undefined;
  closed = false;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.onmessage = (e) => {
      const text = String(e.data);
      if (this.onFrame) return this.onFrame(text);
      const w = this.#waiting.shift();
      if (w) w(text);
      else this.#queued.push(text);
    };
    this.ws.onclose = () => this.closed = true;
    this.ws.onerror = () => {};
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.addEventListener("open", () => resolve(), { once: true });
      this.ws.addEventListener("close", () => reject(new Error("closed before open")), {
        once: true,
      });
    });
  }

  next(): Promise<string> {
    const q = this.#queued.shift();
    if (q !== undefined) return Promise.resolve(q);
    return new Promise((r) => this.#waiting.push(r));
  }

  /** Reads frames until one starts with `prefix`; returns it. */
  async until(prefix: string): Promise<string> {
    while (true) {
      const text = await this.next();
      if (text.startsWith(prefix)) return text;
    }
  }

  close(): void {
    try {
      this.ws.close();
    } catch {
      // closed
    }
  }
}

/** One lobby of a host and a guest; resolves with the host and the guest, joined. */
async function pair(url: string, guestUrl = url): Promise<[Client, Client]> {
  const host = new Client(url);
  await host.opened();
  host.ws.send("J: \n");
  const name = (await host.until("J: ")).slice(3).trim();
  const guest = new Client(guestUrl);
  await guest.opened();
  guest.ws.send(`J: ${name}\n`);
  await guest.until("J: ");
  return [host, guest];
}

async function pairs(
  url: string,
  count: number,
  batch = 50,
  guestUrl = url,
): Promise<[Client, Client][]> {
  const out: [Client, Client][] = [];
  for (let i = 0; i < count; i += batch) {
    out.push(
      ...await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, () => pair(url, guestUrl)),
      ),
    );
  }
  return out;
}

const CANDIDATE = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 ts";

/** Runs the paced relay load against one server. */
export async function relayOnce(target: RelayTarget, load: RelayLoad): Promise<RelayResult> {
  const server = await ServerProcess.start(target);
  try {
    const joinStart = performance.now();
    const lobbies = await pairs(server.url, load.lobbies, 50, server.guestUrl);
    const joinsPerSec = (2 * load.lobbies) / ((performance.now() - joinStart) / 1000);
    const period = 1000 / load.rate;
    const perGuest = Math.round(load.rate * load.seconds);
    const total = perGuest * lobbies.length;
    const latencies: number[] = [];
    let relayed = 0;
    let allIn!: () => void;
    const done = new Promise<void>((r) => allIn = r);
    const onFrame = (text: string) => {
      const at = performance.now();
      if (!text.startsWith("C: ")) return;
      latencies.push((at - Number(text.slice(text.lastIndexOf(" ") + 1))) * 1000);
      if (++relayed === total) allIn();
    };
    // Warm the path (JIT) before measuring: 20 frames per guest, not counted.
    const warm = 20 * lobbies.length;
    let warmed = 0;
    const warmedUp = new Promise<void>((resolve) => {
      for (const [host] of lobbies) host.onFrame = () => ++warmed === warm && resolve();
    });
    for (let k = 0; k < 20; k++) {
      for (const [, guest] of lobbies) guest.ws.send(`C: 1\n0\n0\n${CANDIDATE} 0`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await warmedUp;
    for (const [host] of lobbies) host.onFrame = onFrame;
    await new Promise((r) => setTimeout(r, 200));
    const stopProfile = target.inspect && await startProfile(target.inspect.port);
    const loadStart = loadAverage();
    const cpu0 = server.cpuNs();
    const [, sys0] = server.userSysMs();
    const start = performance.now();
    const sent = new Array(lobbies.length).fill(0);
    let sentTotal = 0;
    await new Promise<void>((finished) => {
      const tick = () => {
        const elapsed = performance.now() - start;
        for (let i = 0; i < lobbies.length; i++) {
          const phase = (i / lobbies.length) * period;
          const due = Math.min(perGuest, Math.floor((elapsed - phase) / period) + 1);
          const guest = lobbies[i][1];
          while (sent[i] < due) {
            sent[i]++;
            sentTotal++;
            guest.ws.send(`C: 1\n0\n0\n${CANDIDATE} ${performance.now()}`);
          }
        }
        if (sentTotal === total) finished();
        else setTimeout(tick, 1);
      };
      tick();
    });
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    const wallMs = performance.now() - start;
    const cpuMs = (server.cpuNs() - cpu0) / 1e6;
    const sysMs = server.userSysMs()[1] - sys0;
    const loadEnd = loadAverage();
    if (stopProfile) {
      await Deno.writeTextFile(target.inspect!.profile, JSON.stringify(await stopProfile()));
    }
    for (const [h, g] of lobbies) {
      h.close();
      g.close();
    }
    latencies.sort((a, b) => a - b);
    return {
      name: target.name,
      sent: sentTotal,
      relayed,
      cpuMs,
      cpuUsPerFrame: (cpuMs * 1000) / Math.max(1, relayed),
      sysUsPerFrame: (sysMs * 1000) / Math.max(1, relayed),
      p50Us: quantile(latencies, 0.5),
      p99Us: quantile(latencies, 0.99),
      wallMs,
      joinsPerSec,
      load: [loadStart, loadEnd],
    };
  } finally {
    await server.stop();
  }
}

/** Opens `sockets` idle, joined sockets (lobbies of 2) and measures the server's memory per socket. */
export async function idleSockets(
  target: RelayTarget,
  sockets: number,
  idleSeconds: number,
): Promise<IdleResult> {
  const server = await ServerProcess.start(target);
  const clients: Client[] = [];
  try {
    // A few sockets first, so the baseline has every code path loaded.
    for (const [h, g] of await pairs(server.url, 10, 50, server.guestUrl)) clients.push(h, g);
    const before = target.gc ? await server.gcRss() : server.rss();
    const t0 = performance.now();
    for (const [h, g] of await pairs(server.url, sockets / 2, 100, server.guestUrl)) {
      clients.push(h, g);
    }
    const openMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
    const cpu0 = server.cpuNs();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleCpuMsPerSec = (server.cpuNs() - cpu0) / 1e6 / idleSeconds;
    const after = target.gc ? await server.gcRss() : server.rss();
    return {
      name: target.name,
      sockets,
      bytesPerSocket: (after - before) / sockets,
      openMs,
      idleCpuMsPerSec,
      idleSeconds,
      stillOpen: clients.filter((c) => !c.closed).length - 20,
    };
  } finally {
    for (const c of clients) c.close();
    await server.stop();
  }
}

/** What `bench/_relay_alloc.ts` prints: a relayed frame's allocation and hot-loop time. */
export interface AllocResult {
  readonly runtime: string;
  readonly serverBytesPerFrame: number;
  readonly stepBytesPerFrame: number;
  readonly serverNsPerFrame: number;
  readonly stepNsPerFrame: number;
}

/**
 * Runs `bench/_relay_alloc.ts` on Deno and on Node (three processes each, the least of each
 * column) against the signaling code of `tree` (default
 * this one; an earlier export gets this tree's script copied into its `bench/`, so before and after
 * are measured by the same code).
 */
export async function allocation(tree = root): Promise<AllocResult[]> {
  const dir = tree.endsWith("/") ? tree : `${tree}/`;
  const script = "bench/_relay_alloc.ts";
  if (dir !== root) await Deno.copyFile(`${root}${script}`, `${dir}${script}`);
  const run = async (cmd: string, args: string[]) => {
    const out = await new Deno.Command(cmd, { args, cwd: dir, stderr: "inherit" }).output();
    if (out.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed`);
    return JSON.parse(new TextDecoder().decode(out.stdout)) as AllocResult;
  };
  const flags = ["--expose-gc", "--min-semi-space-size=64"];
  const bundle = await bundleForNode(script, dir);
  // Three processes each: a process's JIT decisions (and the machine's load) move its times by up
  // to 2×; the least of each column is kept (bytes vary by a few percent).
  const least = async (cmd: string, args: string[]) => {
    const runs = [await run(cmd, args), await run(cmd, args), await run(cmd, args)];
    const min = (f: (r: AllocResult) => number) => Math.min(...runs.map(f));
    return {
      runtime: runs[0].runtime,
      serverBytesPerFrame: min((r) => r.serverBytesPerFrame),
      stepBytesPerFrame: min((r) => r.stepBytesPerFrame),
      serverNsPerFrame: min((r) => r.serverNsPerFrame),
      stepNsPerFrame: min((r) => r.stepNsPerFrame),
    };
  };
  return [
    await least(deno, ["run", "-A", `--v8-flags=${flags.join(",")}`, `${dir}${script}`]),
    await least("node", [...flags, bundle]),
  ];
}

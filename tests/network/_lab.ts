/**
 * The network lab: network namespaces linked only to each other, NAT routers made with nftables,
 * and faults on demand. Tests of real networks (NAT traversal, TURN, loss, partitions) are stories
 * on top of this module.
 *
 * ```
 *                         wan (bridge br0, 198.18.0.1/24: signaling, coturn, wan peers)
 *          ┌──────────────────────┼───────────────────────┐
 *   natA 198.18.0.11       natB 198.18.0.12        natS 198.18.0.13
 *   masquerade (cone)      masquerade (cone)       masquerade random,fully-random (symmetric)
 *   198.19.1.1/24          198.19.2.1/24           198.19.3.1/24
 *          │                      │                       │
 *   lanA 198.19.1.2        lanB 198.19.2.2         lanS 198.19.3.2
 * ```
 *
 * Nothing is linked to the host's namespace: there is no way out, and the host cannot reach in
 * (the test process talks to lab processes through their pipes only). The wan's default route
 * points at a gateway address whose MAC no interface has: packets to unknown addresses leave and
 * vanish, as they would on the Internet (see {@link Lab.wanDefaultRoute}). Addresses are from the
 * benchmarking range 198.18.0.0/15. Every namespace name starts with `wmlab-<pid>-<random>-`, so
 * two runs never collide; {@link sweepStaleLabs} removes the namespaces of runs whose process died
 * without tearing down (a runner timeout's SIGKILL).
 *
 * Why each NAT drops new unsolicited inbound UDP at its own input hook: a plain Linux masquerade
 * router that receives a connectivity check from the other side before its own peer sent anything
 * to that address creates a conntrack entry for it (to its local input); the router's own later
 * outbound mapping then clashes with that entry and moves to another port, and the NAT behaves
 * symmetric. Dropping those packets before conntrack confirms them keeps the mappings stable, as
 * a home router's (endpoint-independent mapping, address-dependent filtering) are.
 *
 * Needs root (namespaces, veth, nftables); {@link labUnavailable} says why not in one line.
 *
 * @module
 */
import { lines } from "../../demo/_lines.ts";

/** The LANs behind the NAT routers: two cone NATs and one symmetric. */
export type LanName = "lanA" | "lanB" | "lanS";
/** Every namespace of the lab. */
export type NodeName = "wan" | LanName | "natA" | "natB" | "natS";

/** Addresses of the lab. */
export const WAN_IP = "198.18.0.1";
/** The address each LAN's host has (its peers bind to it). */
export const LAN_IP: Record<LanName, string> = {
  lanA: "198.19.1.2",
  lanB: "198.19.2.2",
  lanS: "198.19.3.2",
};
/** The public (wan side) address of each LAN's NAT router. */
export const NAT_WAN_IP: Record<LanName, string> = {
  lanA: "198.18.0.11",
  lanB: "198.18.0.12",
  lanS: "198.18.0.13",
};
const ROUTER: Record<LanName, "natA" | "natB" | "natS"> = {
  lanA: "natA",
  lanB: "natB",
  lanS: "natS",
};
const LAN_NET: Record<LanName, number> = { lanA: 1, lanB: 2, lanS: 3 };

const PREFIX = "wmlab-";
/** The wan's default gateway: an address and MAC nobody has, so packets to elsewhere vanish. */
const VOID_IP = "198.18.0.254";
const VOID_MAC = "02:00:5e:00:00:fe";

/** A process running inside a lab namespace. */
export interface LabProcess {
  /** The namespace it runs in. */
  readonly node: NodeName;
  /** Its child process (stdin/stdout/stderr piped). */
  readonly child: Deno.ChildProcess;
  /** Lines of its standard output, as they come (each line once, to the first reader). */
  readonly lines: AsyncIterableIterator<string>;
  /** Everything it printed so far on standard error. */
  stderr(): string;
  /** Writes one line to its standard input. */
  write(line: string): Promise<void>;
  /** Sends SIGTERM (or the given signal), waits until it exited; returns its exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Options of {@link Lab.exec}. */
export interface ExecOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. Default the current one. */
  cwd?: string;
}

/**
 * Reads `stream` to its end in the background, keeping its text (the last 100 000 characters
 * once it passed 200 000); the returned function says what came so far.
 */
export function collectText(stream: ReadableStream<Uint8Array>): () => string {
  let text = "";
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length > 200_000) text = text.slice(-100_000);
    }
  })().catch(() => {});
  return () => text;
}

async function run(cmd: string[], input?: string): Promise<string> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return text;
}

/**
 * Why this machine cannot run the lab, in one line, or undefined if it can (root, `ip`, `nft`, and
 * a namespace can really be made).
 */
export async function labUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `the network lab needs Linux (this is ${Deno.build.os})`;
  if (Deno.uid() !== 0) {
    return `the network lab needs root to create network namespaces (uid ${Deno.uid()}); run the tests as root`;
  }
  for (const tool of ["ip", "nft"]) {
    try {
      await run([tool, "-V"]);
    } catch (error) {
      return `the network lab needs '${tool}' (apt-get install -y iproute2 nftables): ${error}`;
    }
  }
  const probe = `${PREFIX}${Deno.pid}-probe${Math.random().toString(36).slice(2, 6)}`;
  try {
    await run(["ip", "netns", "add", probe]);
  } catch (error) {
    return `this machine cannot create network namespaces: ${error}`;
  }
  await run(["ip", "netns", "del", probe]).catch(() => {});
  return undefined;
}

/** Lists every lab namespace on the machine (of any run). */
async function labNamespaces(): Promise<string[]> {
  const text = await run(["ip", "netns", "list"]);
  return text.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(PREFIX));
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Kills every process inside a namespace and deletes it. */
async function removeNamespace(ns: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const pids = (await run(["ip", "netns", "pids", ns]).catch(() => "")).split(/\s+/)
      .filter(Boolean).map(Number);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        Deno.kill(pid, round < 10 ? "SIGTERM" : "SIGKILL");
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await run(["ip", "netns", "del", ns]).catch(() => {});
}

/** Removes the namespaces of lab runs whose process no longer exists. Returns how many. */
export async function sweepStaleLabs(): Promise<number> {
  let removed = 0;
  for (const ns of await labNamespaces()) {
    const pid = Number(/^wmlab-(\d+)-/.exec(ns)?.[1]);
    if (!Number.isFinite(pid) || pid === Deno.pid || alive(pid)) continue;
    await removeNamespace(ns);
    removed++;
  }
  return removed;
}

/** nftables rules of a NAT router; `symmetric` picks a new mapping per destination. */
function natRules(symmetric: boolean): string {
  return `
table ip lab_nat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade${symmetric ? " random,fully-random" : ""}
  }
}
table ip lab_filter {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state new meta l4proto udp udp dport 1024-65535 drop
  }
  chain faults {
    type filter hook forward priority filter - 10; policy accept;
  }
}
`;
}

/** A running lab. Make one with {@link createLab}; always {@link Lab.teardown} it. */
export class Lab {
  /** The unique prefix of this run's namespaces. */
  readonly id: string;
  #processes = new Set<LabProcess>();
  #down = false;

  /** Use {@link createLab}. */
  constructor(id: string) {
    this.id = id;
  }

  /** The real namespace name of a lab node. */
  ns(node: NodeName): string {
    return `${this.id}-${node}`;
  }

  /** Runs a command inside a namespace and returns its standard output (throws on failure). */
  sh(node: NodeName, cmd: string[], input?: string): Promise<string> {
    return run(["ip", "netns", "exec", this.ns(node), ...cmd], input);
  }

  /** Starts a long-running process inside a namespace; {@link teardown} stops it if still running. */
  exec(node: NodeName, cmd: string[], options: ExecOptions = {}): LabProcess {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", this.ns(node), ...cmd],
      env: { NO_COLOR: "1", ...options.env },
      cwd: options.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errText = collectText(child.stderr);
    const writer = child.stdin.getWriter();
    const encoder = new TextEncoder();
    let status: Promise<Deno.CommandStatus> | undefined;
    const proc: LabProcess = {
      node,
      child,
      lines: lines(child.stdout),
      stderr: errText,
      write: async (line) => {
        await writer.write(encoder.encode(line + "\n")).catch(() => {});
      },
      stop: (signal = "SIGTERM") => {
        if (!status) {
          try {
            child.kill(signal);
          } catch {
            // exited already
          }
          const hard = setTimeout(() => {
            try {
              child.kill("SIGKILL");
            } catch {
              // exited
            }
          }, 5000);
          status = child.status.finally(() => {
            clearTimeout(hard);
            this.#processes.delete(proc);
            writer.close().catch(() => {});
          });
        }
        return status;
      },
    };
    child.status.then(() => writer.close().catch(() => {}));
    this.#processes.add(proc);
    return proc;
  }

  /**
   * Whether the wan has a default route. With it (the default, like a server on the Internet),
   * packets to addresses nobody in the wan has (a peer's private LAN address) leave towards a
   * gateway that does not exist and vanish. Without it, sending there fails at once with
   * ENETUNREACH: coturn then closes the allocation that relayed the packet (see README, "Behind
   * NAT"), which is how a TURN server without a route to its peers' private addresses behaves.
   */
  async wanDefaultRoute(on: boolean): Promise<void> {
    const has = (await this.sh("wan", ["ip", "route", "show", "default"])).trim() !== "";
    if (on && !has) {
      await this.sh("wan", ["ip", "route", "add", "default", "via", VOID_IP, "dev", "br0"]);
    }
    if (!on && has) await this.sh("wan", ["ip", "route", "del", "default"]);
  }

  /** Cuts a LAN off the wan: its router drops everything it would forward. */
  async partition(lan: LanName): Promise<void> {
    await this.#faults(lan, [""]);
  }

  /** Drops `percent` % of the packets its router forwards, at random, both directions. */
  async loss(lan: LanName, percent: number): Promise<void> {
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`loss ${percent} % is not 0..100`);
    await this.#faults(lan, [`numgen random mod 100 < ${Math.round(percent)}`]);
  }

  /** Removes every fault of a LAN's link. */
  async restore(lan: LanName): Promise<void> {
    await this.#faults(lan, []);
  }

  /**
   * A NAT rebinding: the router of `lan` moves its UDP mappings to a new public address (returned)
   * and forgets the old ones, as a home router that restarted or a carrier NAT that timed a mapping
   * out does; the peers behind it now appear from another address. UDP is dropped before conntrack
   * (so nothing refreshes the old mappings) for `gapMs` with conntrack's UDP timeouts at 1 s, then
   * new mappings take the new address. TCP (the signaling connection) keeps its mapping.
   */
  async rebindUdp(lan: LanName, gapMs = 2500): Promise<string> {
    const router = ROUTER[lan];
    const ip = `198.18.0.${20 + LAN_NET[lan]}`;
    await this.sh(router, ["ip", "addr", "add", `${ip}/24`, "dev", "wan"]);
    await this.sh(router, [
      "sysctl",
      "-q",
      "-w",
      "net.netfilter.nf_conntrack_udp_timeout=1",
      "net.netfilter.nf_conntrack_udp_timeout_stream=1",
    ]);
    await this.sh(
      router,
      ["nft", "-f", "-"],
      [
        "flush chain ip lab_nat post",
        `add rule ip lab_nat post oifname "wan" meta l4proto udp snat to ${ip}`,
        `add rule ip lab_nat post oifname "wan" masquerade`,
        "table ip lab_rebind {",
        "  chain pre { type filter hook prerouting priority raw; policy accept; meta l4proto udp drop; }",
        "}",
      ].join("\n") + "\n",
    );
    await new Promise((r) => setTimeout(r, gapMs));
    await this.sh(router, ["nft", "delete", "table", "ip", "lab_rebind"]);
    return ip;
  }

  /** Packets dropped by the faults of a LAN's link so far (nftables counters). */
  async dropped(lan: LanName): Promise<number> {
    const text = await this.sh(ROUTER[lan], ["nft", "list", "chain", "ip", "lab_filter", "faults"]);
    return [...text.matchAll(/packets (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
  }

  /** Replaces the fault rules of a LAN's router: each match (empty: every packet) drops. */
  async #faults(lan: LanName, rules: string[]): Promise<void> {
    const script = [
      "flush chain ip lab_filter faults",
      ...rules.map((match) => `add rule ip lab_filter faults ${match} counter drop`),
    ].join("\n") + "\n";
    await this.sh(ROUTER[lan], ["nft", "-f", "-"], script);
  }

  /** Stops every process still running, then deletes every namespace of this lab. Idempotent. */
  async teardown(): Promise<void> {
    if (this.#down) return;
    this.#down = true;
    await Promise.all([...this.#processes].map((p) => p.stop("SIGKILL")));
    for (const ns of await labNamespaces()) {
      if (ns.startsWith(`${this.id}-`)) await removeNamespace(ns);
    }
  }

  /** Builds the topology (called by {@link createLab}). */
  async build(): Promise<void> {
    const nodes: NodeName[] = ["wan", "natA", "natB", "natS", "lanA", "lanB", "lanS"];
    for (const node of nodes) {
      await run(["ip", "netns", "add", this.ns(node)]);
      await this.sh(node, ["ip", "link", "set", "lo", "up"]);
    }
    await this.sh("wan", ["ip", "link", "add", "br0", "type", "bridge"]);
    await this.sh("wan", ["ip", "addr", "add", `${WAN_IP}/24`, "dev", "br0"]);
    await this.sh("wan", ["ip", "link", "set", "br0", "up"]);
    await this.sh("wan", [
      "ip",
      "neigh",
      "add",
      VOID_IP,
      "lladdr",
      VOID_MAC,
      "dev",
      "br0",
      "nud",
      "permanent",
    ]);
    await this.wanDefaultRoute(true);
    for (const lan of ["lanA", "lanB", "lanS"] as const) {
      const router = ROUTER[lan];
      const net = LAN_NET[lan];
      // wan link: "wan" in the router, "to-<router>" on the wan bridge.
      await this.sh("wan", [
        "ip",
        "link",
        "add",
        `to-${router}`,
        "type",
        "veth",
        "peer",
        "name",
        "wan",
        "netns",
        this.ns(router),
      ]);
      await this.sh("wan", ["ip", "link", "set", `to-${router}`, "master", "br0", "up"]);
      // lan link: "lan" in the router, "eth0" in the LAN.
      await this.sh(router, [
        "ip",
        "link",
        "add",
        "lan",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        this.ns(lan),
      ]);
      await this.sh(router, ["ip", "addr", "add", `${NAT_WAN_IP[lan]}/24`, "dev", "wan"]);
      await this.sh(router, ["ip", "addr", "add", `198.19.${net}.1/24`, "dev", "lan"]);
      await this.sh(router, ["ip", "link", "set", "wan", "up"]);
      await this.sh(router, ["ip", "link", "set", "lan", "up"]);
      await this.sh(router, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
      await this.sh(router, ["nft", "-f", "-"], natRules(lan === "lanS"));
      await this.sh(lan, ["ip", "addr", "add", `${LAN_IP[lan]}/24`, "dev", "eth0"]);
      await this.sh(lan, ["ip", "link", "set", "eth0", "up"]);
      await this.sh(lan, ["ip", "route", "add", "default", "via", `198.19.${net}.1`]);
    }
  }
}

/**
 * Creates a fresh lab (removing the namespaces of dead earlier runs first). Tear it down in a
 * `finally`.
 *
 * @example
 * ```ts ignore
 * const lab = await createLab();
 * try {
 *   const server = lab.exec("wan", ["deno", "run", "-A", "signaling/cli.ts", "--host", WAN_IP]);
 *   await lab.partition("lanA");
 * } finally {
 *   await lab.teardown();
 * }
 * ```
 */
export async function createLab(): Promise<Lab> {
  const why = await labUnavailable();
  if (why) throw new Error(why);
  await sweepStaleLabs();
  const lab = new Lab(`${PREFIX}${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    await lab.build();
  } catch (error) {
    await lab.teardown();
    throw error;
  }
  return lab;
}

/**
 * Soak test (issue 8, item 6): peers join and leave one lobby continuously for `--minutes M`;
 * every join must form a full mesh with the members present and exchange packets with each of
 * them. At the end RSS, heap and open file descriptors are compared with the start (after a
 * warm-up) and must stay within a small bound.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc soak/main.ts --minutes 10 [--members 4] [--stack ndc|wrtc] [--json]
 * ```
 *
 * Exits 0 when every join succeeded and the end figures are within bounds (`--max-rss-mib`,
 * default 64 MiB over the start; `--max-fds`, default 16 over the start), else 1.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadStack } from "../adapters/stack.ts";
import { GodotError, TransferMode } from "../core/constants.ts";
import { joinLobby, type LobbyClient } from "../signaling/client.ts";
import { serveSignalingDeno } from "../signaling/server_deno.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "1" },
    members: { type: "string", default: "4" },
    "max-rss-mib": { type: "string", default: "64" },
    "max-fds": { type: "string", default: "16" },
    stack: { type: "string", default: "ndc" },
    json: { type: "boolean", default: false },
  },
});
/** The WebRTC stack every peer of the soak uses (`--stack`). */
const { createPeerConnection } = await loadStack(args.stack);
const minutes = Number(args.minutes);
const MEMBERS = Math.max(2, Number(args.members));

interface Sample {
  at: number;
  joins: number;
  rssMiB: number;
  heapMiB: number;
  fds: number;
  /** Threads of the process (libdatachannel's and usrsctp's included); -1 when not on Linux. */
  threads: number;
}

function threadCount(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    return Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? -1);
  } catch {
    return -1; // not Linux
  }
}

function fdCount(): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return -1; // not Linux
  }
}

async function sample(joins: number, started: number): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = Deno.memoryUsage();
  return {
    at: Math.round((performance.now() - started) / 1000),
    joins,
    rssMiB: +(m.rss / 1048576).toFixed(1),
    heapMiB: +(m.heapUsed / 1048576).toFixed(1),
    fds: fdCount(),
    threads: threadCount(),
  };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const connectedIds = (c: LobbyClient) =>
  [...c.mesh.getPeers()].filter(([, p]) => p.connected).map(([id]) => id);

/** Signaling errors each client reported (for the failure messages). */
const signalingErrors = new WeakMap<LobbyClient, string[]>();
/** Connection state histories of each client's connections (for the failure messages). */
const connectionHistories = new WeakMap<LobbyClient, string[][]>();

/** Joins with the soak's options and records the client's signaling errors. */
async function join(lobby: string): Promise<LobbyClient> {
  // Every connection of this client records its states, for the failure messages.
  const histories: string[][] = [];
  const c = await joinLobby(server.url, lobby, {
    createPeerConnection: (config) => {
      const pc = createPeerConnection(config);
      const history = ["new"];
      histories.push(history);
      const t0 = performance.now();
      const at = () => Math.round(performance.now() - t0);
      pc.addEventListener("connectionstatechange", () => {
        history.push(`${pc.connectionState}@${at()}`);
      });
      // The channels' events too: a channel closing or failing removes its peer (SPEC rule 5).
      const create = pc.createDataChannel.bind(pc);
      pc.createDataChannel = (label, init) => {
        const channel = create(label, init);
        for (const type of ["close", "error"]) {
          channel.addEventListener(type, (event) => {
            const why = (event as Event & { error?: { message?: string } }).error?.message;
            history.push(`${label}:${type}${why ? `(${why})` : ""}@${at()}`);
          });
        }
        return channel;
      };
      return pc;
    },
  });
  connectionHistories.set(c, histories);
  const errors: string[] = [];
  signalingErrors.set(c, errors);
  c.addEventListener("signaling_error", (e) => errors.push(e.detail.message));
  c.addEventListener("disconnected", (e) => {
    if (!leaving.has(c)) errors.push(`server closed us: ${e.detail.code} ${e.detail.reason}`);
  });
  return c;
}

/** Waits until `joiner` and every member see each other connected, then exchanges packets. */
async function meshAndExchange(joiner: LobbyClient, members: LobbyClient[], seq: number) {
  try {
    await until(
      () =>
        members.every((m) => connectedIds(m).includes(joiner.id)) &&
        members.every((m) => connectedIds(joiner).includes(m.id)),
      20000,
      `mesh of peer ${joiner.id}`,
    );
  } catch (error) {
    // Say which links did not come up, and how far they got.
    const link = (from: LobbyClient, to: number) => {
      const p = from.mesh.getPeer(to);
      return p === undefined
        ? "absent"
        : `${p.connection.connectionState}/${p.channels.map((c) => c.readyState).join(",")}`;
    };
    const broken = members
      .filter((m) => !connectedIds(m).includes(joiner.id) || !connectedIds(joiner).includes(m.id))
      .map((m) => `${m.id}->${joiner.id} ${link(m, joiner.id)}, back ${link(joiner, m.id)}`);
    const errors = [joiner, ...members].flatMap((c) =>
      (signalingErrors.get(c) ?? []).map((e) => `${c.id}: ${e}`)
    );
    const histories = (connectionHistories.get(joiner) ?? []).map((h) => h.join(">"));
    throw new Error(
      `${error}: ${broken.join("; ")}; signaling errors: ${errors.join(" | ")}; ` +
        `joiner's connections: ${histories.join(" ; ")}`,
    );
  }
  // The joiner broadcasts on every channel; each member answers it on the reliable channel.
  const hello = new TextEncoder().encode(`hello ${seq}`);
  for (const mode of [TransferMode.UNRELIABLE, TransferMode.UNRELIABLE_ORDERED]) {
    joiner.mesh.transferMode = mode;
    joiner.mesh.putPacket(hello);
  }
  joiner.mesh.transferMode = TransferMode.RELIABLE;
  if (joiner.mesh.putPacket(hello) !== GodotError.OK) {
    throw new Error(joiner.mesh.lastError.message);
  }
  for (const m of members) {
    await until(
      () => {
        while (m.mesh.getAvailablePacketCount() > 0) {
          const from = m.mesh.getPacketPeer();
          const data = new TextDecoder().decode(m.mesh.getPacket());
          if (from === joiner.id && data === `hello ${seq}`) return true;
        }
        return false;
      },
      10000,
      `hello ${seq} at ${m.id}`,
    );
    m.mesh.transferMode = TransferMode.RELIABLE;
    m.mesh.targetPeer = joiner.id;
    if (m.mesh.putPacket(new TextEncoder().encode(`re ${seq}`)) !== GodotError.OK) {
      throw new Error(m.mesh.lastError.message);
    }
    m.mesh.targetPeer = 0;
  }
  const answered = new Set<number>();
  await until(
    () => {
      while (joiner.mesh.getAvailablePacketCount() > 0) {
        const from = joiner.mesh.getPacketPeer();
        const data = new TextDecoder().decode(joiner.mesh.getPacket());
        if (data === `re ${seq}`) answered.add(from);
      }
      return members.every((m) => answered.has(m.id));
    },
    10000,
    `answers to ${joiner.id}`,
  );
}

/** Clients that are leaving on purpose (their disconnection is not an error). */
const leaving = new WeakSet<LobbyClient>();

async function leave(c: LobbyClient) {
  leaving.add(c);
  await c.close();
  await c.mesh.whenClosed();
}

const server = await serveSignalingDeno({ port: 0 });
const started = performance.now();
const deadline = started + minutes * 60_000;
const samples: Sample[] = [];
let joins = 0;
let failures = 0;
let host: LobbyClient | undefined;
let members: LobbyClient[] = [];
const log = (text: string) => {
  if (!args.json) console.log(text);
};

/** One generation: a host and members joining and leaving until `until` (ms). */
async function generation(stopAt: number) {
  host = await join("");
  members = [];
  const all = () => [host!, ...members];
  while (performance.now() < stopAt) {
    const joiner = await join(host.lobby);
    const present = all();
    members.push(joiner);
    joins++;
    try {
      await meshAndExchange(joiner, present, joins);
    } catch (error) {
      failures++;
      log(`join ${joins} failed: ${error}`);
    }
    if (members.length >= MEMBERS) {
      const gone = members.shift()!;
      const id = gone.id;
      await leave(gone);
      await until(() => all().every((c) => !c.mesh.hasPeer(id)), 10000, `peer ${id} gone`);
    }
  }
  for (const c of [...members].reverse()) await leave(c);
  await leave(host);
  members = [];
  host = undefined;
}

try {
  // Warm up (libraries loaded, JIT, libdatachannel threads), then take the start figures.
  await generation(performance.now() + Math.min(10_000, minutes * 6_000));
  const start = await sample(joins, started);
  samples.push(start);
  log(`start: ${JSON.stringify(start)}`);
  let nextReport = performance.now() + 30_000;
  // Generations of about a minute each: the host leaves too (the lobby ends) now and then.
  while (performance.now() < deadline) {
    const stopAt = Math.min(deadline, performance.now() + 60_000);
    await generation(stopAt);
    if (performance.now() >= nextReport) {
      const s = await sample(joins, started);
      samples.push(s);
      log(`sample: ${JSON.stringify(s)}`);
      nextReport = performance.now() + 30_000;
    }
  }
} finally {
  if (host) { for (const c of [host, ...members]) await leave(c).catch(() => {}); }
  await server.shutdown();
}
await new Promise((r) => setTimeout(r, 500));
const end = await sample(joins, started);
samples.push(end);
const start = samples[0];
const rssGrowth = end.rssMiB - start.rssMiB;
const fdGrowth = end.fds - start.fds;
const ok = failures === 0 && joins > 0 && rssGrowth <= Number(args["max-rss-mib"]) &&
  fdGrowth <= Number(args["max-fds"]);
const result = {
  type: "soak",
  stack: args.stack,
  ok,
  minutes,
  joins,
  failures,
  start,
  end,
  rssGrowthMiB: +rssGrowth.toFixed(1),
  fdGrowth,
  samples,
};
if (args.json) console.log(JSON.stringify(result));
else {
  log(`end: ${JSON.stringify(end)}`);
  log(
    `soak ${
      ok ? "passed" : "FAILED"
    }: ${joins} joins, ${failures} failed; RSS ${start.rssMiB} -> ` +
      `${end.rssMiB} MiB (${rssGrowth >= 0 ? "+" : ""}${
        rssGrowth.toFixed(1)
      }), fds ${start.fds} -> ` +
      `${end.fds}, threads ${start.threads} -> ${end.threads}, heap ${start.heapMiB} -> ` +
      `${end.heapMiB} MiB`,
  );
}
Deno.exit(ok ? 0 : 1);

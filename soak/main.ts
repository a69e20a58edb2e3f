/**
 * Soak test (issue 8, item 6): peers join and leave one lobby continuously for `--minutes M`;
 * every join must form a full mesh with the members present and exchange packets with each of
 * them. Memory and descriptors must not grow with the joins:
 *
 * - RSS is sampled every 5 s at the same point of the cycle (a member has just left; the host and
 *   `--members - 1` members are connected). `_rss.ts` finds where the warm-up rise ends (the
 *   plateau), takes the baseline there and bounds the slope of RSS against joins after it
 *   (`--max-kib-per-join`, default 6) and the growth from the baseline to the end
 *   (`--max-growth-mib`, default 8). A run that ends before the plateau, or with fewer than 300
 *   joins after it, reports that RSS was not judged (the 1-minute CI soak: it checks the joins, the
 *   descriptors and the gross cap below, not leaks); a run of 5 minutes or more must reach one.
 * - Always: RSS at most `--max-rss-mib` (default 64) above the first sample (a gross leak), and
 *   open file descriptors, counted with every client gone, at most `--max-fds` (default 16) above
 *   the count after the first generation.
 *
 * `--inject-leak-kib N` (tests only) keeps N KiB per join alive, to prove the bound fails.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc soak/main.ts --minutes 10 [--members 4] [--stack ndc|wrtc] [--json]
 * deno run -A soak/main.ts --help
 * ```
 *
 * Exits 0 when every join succeeded and the figures are within bounds, else 1.
 *
 * @module
 */
import { loadStack, STACKS } from "../adapters/stack.ts";
import { GodotError, TransferMode } from "../core/constants.ts";
import { joinLobby, type LobbyClient } from "../signaling/client.ts";
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import { boolean, integer, number, oneOf, readFlags } from "../signaling/_flags.ts";
import { judgeRss, type RssSample } from "./_rss.ts";
import { type ProcessSample, sampleProcess } from "./_process.ts";

/** `deno task soak`'s command line. */
export const SOAK_COMMAND = {
  name: "deno task soak",
  summary: "Peers join and leave one lobby continuously; every join must form a full mesh;\n" +
    "RSS (after its warm-up plateau) and file descriptors must not grow with the joins.",
  flags: {
    minutes: number("length of the run", { default: 1, min: 0, max: 1440, aboveMin: true }),
    members: integer("members in the lobby besides the host", { default: 4, min: 2, max: 16 }),
    "max-kib-per-join": number("RSS slope allowed after the plateau, KiB per join", {
      default: 6,
      min: 0,
      max: 1024,
    }),
    "max-growth-mib": number("RSS growth allowed from the plateau's baseline to the end, MiB", {
      default: 8,
      min: 0,
      max: 4096,
    }),
    "max-rss-mib": number("RSS growth allowed over the first sample (gross leak), MiB", {
      default: 64,
      min: 0,
      max: 4096,
    }),
    "max-fds": integer("open file descriptors allowed over the start", {
      default: 16,
      min: 0,
      max: 100000,
    }),
    "inject-leak-kib": number("tests only: keep this many KiB alive per join", {
      default: 0,
      min: 0,
      max: 1024,
    }),
    stack: oneOf("WebRTC stack of every peer: node-datachannel or @roamhq/wrtc", STACKS, "ndc"),
    json: boolean("print one JSON object at the end instead of text"),
  },
};

const args = readFlags(SOAK_COMMAND, Deno.args, { exit: Deno.exit });
/** The WebRTC stack every peer of the soak uses (`--stack`). */
const { createPeerConnection } = await loadStack(args.stack);
const minutes = args.minutes;
const MEMBERS = args.members;
/** The injected leak (`--inject-leak-kib`): one buffer per join, never released. */
const leaked: Uint8Array[] = [];
/** RSS samples at the same point of the join cycle (see the module documentation). */
const steady: RssSample[] = [];
const STEADY_INTERVAL_MS = 5_000;
let lastSteady = -Infinity;

interface Sample extends ProcessSample {
  at: number;
  joins: number;
}

async function sample(joins: number, started: number): Promise<Sample> {
  const at = Math.round((performance.now() - started) / 1000);
  return { at, joins, ...await sampleProcess() };
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
    if (args["inject-leak-kib"] > 0) {
      leaked.push(new Uint8Array(Math.round(args["inject-leak-kib"] * 1024)).fill(joins % 251 + 1));
    }
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
      if (performance.now() - lastSteady >= STEADY_INTERVAL_MS) {
        lastSteady = performance.now();
        const s = await sample(joins, started);
        steady.push({ atMs: Math.round(lastSteady - started), joins, rssMiB: s.rssMiB });
      }
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
const rss = judgeRss(steady, {
  minutes,
  maxKiBPerJoin: args["max-kib-per-join"],
  maxGrowthMiB: args["max-growth-mib"],
});
const firstRss = steady[0]?.rssMiB ?? start.rssMiB;
const peakRss = Math.max(end.rssMiB, ...steady.map((x) => x.rssMiB));
const grossGrowth = +(peakRss - firstRss).toFixed(1);
const fdGrowth = end.fds - start.fds;
const problems: string[] = [];
if (joins === 0) problems.push("no join completed");
if (failures > 0) problems.push(`${failures} of ${joins} joins failed`);
if (!rss.ok) problems.push(`RSS ${rss.reason}`);
if (grossGrowth > args["max-rss-mib"]) {
  problems.push(`RSS peak ${peakRss} MiB is more than ${args["max-rss-mib"]} MiB over ${firstRss}`);
}
if (fdGrowth > args["max-fds"]) {
  problems.push(`file descriptors ${start.fds} -> ${end.fds} (over ${args["max-fds"]} more)`);
}
const ok = problems.length === 0;
const result = {
  type: "soak",
  stack: args.stack,
  ok,
  minutes,
  joins,
  failures,
  injectedLeakKiB: args["inject-leak-kib"],
  rss: { ...rss, firstMiB: firstRss, peakMiB: peakRss, grossGrowthMiB: grossGrowth },
  start,
  end,
  fdGrowth,
  problems,
  samples,
  steady,
};
if (args.json) console.log(JSON.stringify(result));
else {
  log(`end: ${JSON.stringify(end)}`);
  log(
    `RSS samples (s:joins:MiB): ${
      steady.map((x) => `${Math.round(x.atMs / 1000)}:${x.joins}:${x.rssMiB}`).join(" ")
    }`,
  );
  log(`RSS ${rss.reason}`);
  log(
    `soak ${ok ? "passed" : "FAILED"}: ${joins} joins, ${failures} failed; RSS first ` +
      `${firstRss}, peak ${peakRss}, end ${end.rssMiB} MiB; fds ${start.fds} -> ${end.fds}, ` +
      `threads ${start.threads} -> ${end.threads}, heap ${start.heapMiB} -> ${end.heapMiB} MiB` +
      (args["inject-leak-kib"] > 0 ? `; injected leak ${args["inject-leak-kib"]} KiB/join` : ""),
  );
  for (const problem of problems) log(`  - ${problem}`);
}
Deno.exit(ok ? 0 : 1);

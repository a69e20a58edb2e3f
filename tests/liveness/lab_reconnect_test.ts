/**
 * Reconnect in the network lab (tests/network/_lab.ts), through the signaling client: a host on
 * the wan and a guest behind lanA's cone NAT join a lobby with `reconnect` on and send each other
 * 10,000 reliable 1 KiB packets spread over 16 s. Meanwhile the link breaks in a way the
 * connection itself does not survive, and must heal within the grace (10 s after the
 * interruption) without `peer_disconnected`, every packet delivered exactly once and in order
 * (the demo wire's judge: tests/network/_lab_peer.ts):
 *
 * - a partition of 8.5 s (longer than node-datachannel's SCTP retransmission at 6.2 s after which
 *   the old connection cannot recover in time): the signaling server runs with
 *   `--idle-timeout 60000` so the signaling connection outlives the cut (its default of 8 s would
 *   drop the guest and announce it gone, see docs/liveness.md);
 * - a NAT rebinding (the guest's public address changes: `Lab.rebindUdp`).
 *
 * Each runs on node-datachannel (which replaces the connection) and on libwebrtc through
 * `@roamhq/wrtc` (which restarts ICE); the peers are processes of their own, so one test process
 * covers both stacks.
 */
import { assert, assertEquals } from "@std/assert";
import { createLab, type Lab, labUnavailable, NAT_WAN_IP } from "../network/_lab.ts";
import {
  LabPeer,
  type PeerEvent,
  startPair,
  startPeer,
  startSignaling,
} from "../network/_scenario.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BROWSER = new URL("./_lab_browser.ts", import.meta.url).pathname;

const STACKS = ["ndc", "wrtc"] as const;
const COUNT = 10_000;
const SPREAD_MS = 16_000;
const GRACE_MS = 10_000;

interface Healed {
  /** Whether a side was interrupted at all. */
  interrupted: boolean;
  /** ms from the cut to each side's `interrupted`. */
  interruptedAfter: number[];
  /** ms from the heal to each side's `resumed`. */
  resumedAfter: number[];
  /** The guest's public address on the connection it resumed with. */
  guestAddressAfter: string;
  /** Whether a connection was replaced. */
  replaced: boolean;
  /** Whether ICE was restarted on the live connection (libwebrtc). */
  restarted: boolean;
}

/** The join options of a lab peer with reconnect on, on `stack`. */
function reconnecting(stack: typeof STACKS[number]) {
  return {
    ...(stack === "ndc" ? {} : { stack }),
    mesh: { reconnect: true, highWaterMark: 1 << 20 },
  };
}

/** Starts a host on the wan and a guest in lanA in one lobby at `url`. */
type Start = (lab: Lab, url: string) => Promise<[LabPeer, LabPeer]>;

/** Both Deno lab peers on `stack`. */
const denoPair = (stack: typeof STACKS[number]): Start => (lab, url) =>
  startPair(lab, url, "wan", "lanA", reconnecting(stack));

/** A Deno lab peer on `stack` hosts, Chromium in lanA joins. */
const chromiumGuest = (stack: typeof STACKS[number]): Start => async (lab, url) => {
  const host = startPeer(lab, "wan", url, "", reconnecting(stack), `${stack} host in wan`);
  const joined = await host.waitFor((e) => e.type === "joined", 20000, "join");
  const options = JSON.stringify({ mesh: { reconnect: true, highWaterMark: 1 << 20 } });
  const guest = new LabPeer(
    lab.exec("lanA", [Deno.execPath(), "run", "-A", BROWSER, url, joined.lobby, options], {
      cwd: ROOT,
    }),
    "chromium in lanA",
  );
  await guest.waitFor((e) => e.type === "joined", 60000, "join");
  return [host, guest];
};

/** A host on the wan and a guest in lanA, connected, sending; `breakLink` breaks and heals it. */
async function healScenario(
  lab: Lab,
  start: Start,
  breakLink: () => Promise<{ cutAt: number; healedAt: number }>,
  serverArgs: string[] = [],
): Promise<Healed> {
  const { url } = await startSignaling(lab, serverArgs);
  const [host, guest] = await start(lab, url);
  const peers: LabPeer[] = [host, guest];
  await Promise.all(peers.map((p) => p.waitFor((e) => e.type === "connected", 30000, "connect")));
  // Beacons (with counts) prove both sides before anything breaks.
  await new Promise((r) => setTimeout(r, 1500));
  await Promise.all(
    peers.map((p) =>
      p.command({ cmd: "send", count: COUNT, mode: 2, size: 1024, spreadMs: SPREAD_MS })
    ),
  );
  await new Promise((r) => setTimeout(r, 2000));
  const { cutAt, healedAt } = await breakLink();
  // Every side that was interrupted must resume within its grace.
  const deadline = Date.now() + GRACE_MS + 8000;
  const settled = () =>
    peers.every((p) => {
      const i = p.events.findIndex((e) => e.type === "interrupted");
      return p.events.some((e) => e.type === "disconnected") ||
        (i >= 0 ? p.events.slice(i).some((e) => e.type === "resumed") : Date.now() > cutAt + 8000);
    });
  while (!settled()) {
    if (Date.now() > deadline) {
      throw new Error(`not resumed in time\nhost: ${host.dump()}\nguest: ${guest.dump()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(peers.map((p) => p.waitFor((e) => e.type === "sent", 60000, "all sent")));
  // Let the last packets and the fins arrive.
  await new Promise((r) => setTimeout(r, 3000));
  for (const p of peers) await p.command({ cmd: "tally" });
  const tallies = await Promise.all(
    peers.map((p) => p.waitFor((e) => e.type === "tally", 10000, "tally")),
  );
  for (const p of peers) {
    const gone = p.events.filter((e: PeerEvent) => e.type === "disconnected");
    assertEquals(gone, [], `${p.name} reported a departure: ${p.dump()}`);
  }
  for (const [i, t] of tallies.entries()) {
    const from = Object.values(t.from) as Array<{ received: number[]; problems: string[] }>;
    assertEquals(from.length, 1, `${peers[i].name}: ${JSON.stringify(t.from)}`);
    assertEquals(from[0].problems, [], `${peers[i].name}: ${JSON.stringify(from[0])}`);
    assertEquals(from[0].received[2], COUNT);
  }
  for (const p of peers) {
    const story = p.events.filter((e) => e.at !== undefined || e.type === "error")
      .map((e) =>
        e.type === "error"
          ? `"${e.message}"`
          : `${e.state ?? e.type}${e.at === undefined ? "" : `@${e.at - cutAt}`}`
      );
    console.log(`${p.name} (ms from the cut): ${story.join(", ")}`);
  }
  const interrupted = peers.map((p) => p.events.find((e) => e.type === "interrupted"));
  const resumed = peers.map((p) => p.events.find((e) => e.type === "resumed"));
  const said = (what: string) =>
    peers.some((p) => p.events.some((e) => e.type === "error" && String(e.message).includes(what)));
  const replaced = said("replacing");
  const restarted = said("restarting ICE");
  // The guest's public address as the new connection's pair shows it (libwebrtc hides the
  // remote peer-reflexive address on the host's side).
  const local = (resumed[1]?.pair as { local?: { address?: string } } | undefined)?.local;
  return {
    interrupted: interrupted.some((e) => e !== undefined),
    interruptedAfter: interrupted.map((e) => e === undefined ? NaN : e.at - cutAt),
    resumedAfter: resumed.map((e) => e === undefined ? NaN : e.at - healedAt),
    guestAddressAfter: local?.address ?? "?",
    replaced,
    restarted,
  };
}

/** The partition tests' outage: lanA cut off for `ms`, then restored. */
async function partition(lab: Lab, ms: number): Promise<{ cutAt: number; healedAt: number }> {
  await lab.partition("lanA");
  const cutAt = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  assert(await lab.dropped("lanA") > 0, "the partition really dropped packets");
  await lab.restore("lanA");
  return { cutAt, healedAt: Date.now() };
}

for (const STACK of STACKS) {
  Deno.test(`reconnect (${STACK}): an 8.5 s partition under 10,000 reliable packets each way heals over signaling, all in order (lab)`, async () => {
    const why = await labUnavailable();
    if (why !== undefined) throw new Error(`network lab unavailable: ${why}`);
    const lab = await createLab();
    try {
      const healed = await healScenario(lab, denoPair(STACK), () => partition(lab, 8500), [
        "--idle-timeout",
        "60000",
      ]);
      // node-datachannel replaces the connection; libwebrtc restarts ICE on it.
      assert(healed.interrupted, "the partition interrupted nobody");
      assert(STACK === "ndc" ? healed.replaced : healed.restarted, JSON.stringify(healed));
      console.log(
        `partition of 8.5 s: interrupted after ${healed.interruptedAfter} ms, resumed ` +
          `${healed.resumedAfter} ms after the heal (host, guest); ${
            healed.replaced ? "replaced" : "ICE restarted"
          }`,
      );
    } finally {
      await lab.teardown();
    }
  });

  Deno.test(`reconnect (${STACK}): the guest's public address changes (NAT rebinding) under load; healed, all in order (lab)`, async () => {
    const why = await labUnavailable();
    if (why !== undefined) throw new Error(`network lab unavailable: ${why}`);
    const lab = await createLab();
    try {
      let newIp = "";
      const healed = await healScenario(lab, denoPair(STACK), async () => {
        const cutAt = Date.now();
        newIp = await lab.rebindUdp("lanA");
        return { cutAt, healedAt: Date.now() };
      });
      console.log(
        `NAT rebinding ${NAT_WAN_IP.lanA} -> ${newIp}: interrupted after ` +
          `${healed.interruptedAfter} ms, resumed ${healed.resumedAfter} ms after the new mapping ` +
          `(host, guest); ${
            healed.replaced
              ? `replaced; the guest is now reached at ${healed.guestAddressAfter}`
              : healed.restarted
              ? "ICE restarted"
              : "the old connection followed the new address by itself"
          }`,
      );
      // node-datachannel cannot follow a peer's new address: it must have been replaced.
      // libwebrtc may follow a peer's new address before anyone is silent for the timeout.
      if (STACK === "ndc") assert(healed.interrupted && healed.replaced, JSON.stringify(healed));
      if (STACK === "wrtc") assert(!healed.replaced, "libwebrtc restarts ICE instead");
      if (healed.replaced) {
        assertEquals(healed.guestAddressAfter, newIp, "the new connection uses the new address");
      }
    } finally {
      await lab.teardown();
    }
  });
}

for (const STACK of STACKS) {
  Deno.test(`reconnect: Chromium behind a NAT and a ${STACK} host, an 8.5 s partition under 10,000 reliable packets each way heals, all in order (lab)`, async () => {
    const why = await labUnavailable();
    if (why !== undefined) throw new Error(`network lab unavailable: ${why}`);
    const lab = await createLab();
    try {
      const healed = await healScenario(lab, chromiumGuest(STACK), () => partition(lab, 8500), [
        "--idle-timeout",
        "60000",
      ]);
      console.log(
        `Chromium and ${STACK}, partition of 8.5 s: interrupted after ${healed.interruptedAfter} ` +
          `ms, resumed ${healed.resumedAfter} ms after the heal (host, page); ${
            healed.replaced ? "replaced" : healed.restarted ? "ICE restarted" : "neither"
          }`,
      );
      // A libwebrtc host restarts ICE with the browser; a node-datachannel host replaces.
      assert(healed.interrupted, "the partition interrupted nobody");
      assert(STACK === "ndc" ? healed.replaced : healed.restarted, JSON.stringify(healed));
    } finally {
      await lab.teardown();
    }
  });
}

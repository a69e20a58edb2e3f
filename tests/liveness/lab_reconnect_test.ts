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
 * The stack is the one of `MESH_STACK` (node-datachannel by default; `wrtc` for libwebrtc).
 */
import { assert, assertEquals } from "@std/assert";
import { labUnavailable } from "../network/_lab.ts";
import { createLab, type Lab, NAT_WAN_IP } from "../network/_lab.ts";
import { type LabPeer, type PeerEvent, startPair, startSignaling } from "../network/_scenario.ts";

const STACK = Deno.env.get("MESH_STACK") || "ndc";
const COUNT = 10_000;
const SPREAD_MS = 16_000;
const GRACE_MS = 10_000;

interface Healed {
  /** ms from the cut to each side's `interrupted`. */
  interruptedAfter: number[];
  /** ms from the heal to each side's `resumed`. */
  resumedAfter: number[];
  /** The host's view of the guest's address after the resume. */
  remoteAfter: string;
}

/** A host on the wan and a guest in lanA, connected, sending; `breakLink` breaks and heals it. */
async function healScenario(
  lab: Lab,
  breakLink: () => Promise<{ cutAt: number; healedAt: number }>,
  serverArgs: string[] = [],
): Promise<Healed> {
  const { url } = await startSignaling(lab, serverArgs);
  const options = {
    ...(STACK === "ndc" ? {} : { stack: STACK as "wrtc" }),
    mesh: { reconnect: true, highWaterMark: 1 << 20 },
  };
  const [host, guest] = await startPair(lab, url, "wan", "lanA", options);
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
  console.log(`cut at ${cutAt}, healed at ${healedAt}`);
  const resumed = await Promise.all(
    peers.map((p) => p.waitFor((e) => e.type === "resumed", GRACE_MS + 8000, "resumed")),
  ).catch((error) => {
    throw new Error(`${error}\nhost: ${host.dump()}`);
  });
  const interrupted = peers.map((p) => p.events.find((e) => e.type === "interrupted")!);
  await Promise.all(peers.map((p) => p.waitFor((e) => e.type === "sent", 60000, "all sent")));
  // Let the last packets and the fins arrive.
  await new Promise((r) => setTimeout(r, 3000));
  for (const p of peers) await p.command({ cmd: "tally" });
  const tallies = await Promise.all(
    peers.map((p) => p.waitFor((e) => e.type === "tally", 10000, "tally")),
  );
  for (const [i, t] of tallies.entries()) {
    const from = Object.values(t.from) as Array<{ received: number[]; problems: string[] }>;
    assertEquals(from.length, 1, `${peers[i].name}: ${JSON.stringify(t.from)}`);
    assertEquals(from[0].problems, [], `${peers[i].name}: ${JSON.stringify(from[0])}`);
    assertEquals(from[0].received[2], COUNT);
  }
  for (const p of peers) {
    const gone = p.events.filter((e: PeerEvent) => e.type === "disconnected");
    assertEquals(gone, [], `${p.name} reported a departure: ${p.dump()}`);
  }
  for (const [i, e] of interrupted.entries()) {
    assert(e !== undefined, `${peers[i].name} was never interrupted`);
  }
  const remote = (resumed[0].pair as { remote?: { address?: string } } | undefined)?.remote;
  return {
    interruptedAfter: interrupted.map((e) => e.at - cutAt),
    resumedAfter: resumed.map((e) => e.at - healedAt),
    remoteAfter: remote?.address ?? "?",
  };
}

Deno.test(`reconnect (${STACK}): an 8.5 s partition under 10,000 reliable packets each way heals over signaling, all in order (lab)`, async () => {
  const why = await labUnavailable();
  if (why !== undefined) throw new Error(`network lab unavailable: ${why}`);
  const lab = await createLab();
  try {
    const healed = await healScenario(lab, async () => {
      await lab.partition("lanA");
      const cutAt = Date.now();
      await new Promise((r) => setTimeout(r, 8500));
      assert(await lab.dropped("lanA") > 0, "the partition really dropped packets");
      await lab.restore("lanA");
      return { cutAt, healedAt: Date.now() };
    }, ["--idle-timeout", "60000"]);
    console.log(
      `partition of 8.5 s: interrupted after ${healed.interruptedAfter} ms, resumed ` +
        `${healed.resumedAfter} ms after the heal (host, guest)`,
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
    const healed = await healScenario(lab, async () => {
      const cutAt = Date.now();
      newIp = await lab.rebindUdp("lanA");
      return { cutAt, healedAt: Date.now() };
    });
    console.log(
      `NAT rebinding ${NAT_WAN_IP.lanA} -> ${newIp}: interrupted after ` +
        `${healed.interruptedAfter} ms, resumed ${healed.resumedAfter} ms after the new mapping; ` +
        `the host now reaches the guest at ${healed.remoteAfter}`,
    );
    assertEquals(healed.remoteAfter, newIp, "the new connection uses the guest's new address");
  } finally {
    await lab.teardown();
  }
});

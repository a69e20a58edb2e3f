/**
 * NAT traversal on real stacks in the lab (node-datachannel, coturn): STUN between two cone NATs,
 * a symmetric NAT with and without TURN, the relay-only policy, and the relay fallback that gets a
 * pair connected when the TURN server loses allocations (see README, "Behind NAT"). The relay-only
 * policy and the relay fallback are also run with Godot 4 clients (`joinLobbyGodot4`): the ICE
 * options live in the session layer both protocols share.
 */
import assert from "node:assert/strict";
import { createLab, type Lab } from "./_lab.ts";
import { startTurn, type Turn } from "./_coturn.ts";
import {
  addRow,
  type LabOptions,
  type LabPeer,
  type PeerEvent,
  startPair,
  startSignaling,
  typesOf,
} from "./_scenario.ts";

const STATIC = { kind: "static", username: "lab", credential: "lab-password" } as const;
/** Setup timeout of these scenarios: a lab setup connects in well under a second. */
const SETUP_MS = 8000;

let lab: Lab;
let turn: Turn;
let url: string;
const running: LabPeer[] = [];

const stunOnly = (): LabOptions => ({ iceServers: [{ urls: turn.stunUrl }] });
const withTurn = (extra: LabOptions = {}): LabOptions => ({
  iceServers: [
    { urls: turn.stunUrl },
    { urls: turn.url, username: STATIC.username, credential: STATIC.credential },
  ],
  ...extra,
});

/** A host in `a` and a guest in `b`, their stacks logging (for {@link connected}'s failures). */
async function pair(a: "lanA" | "lanB" | "lanS", b: "lanA" | "lanB" | "lanS", o: LabOptions) {
  const peers = await startPair(lab, url, a, b, { stackLog: "Info", ...o });
  running.push(...peers);
  return peers;
}

const isConnected = (e: PeerEvent) => e.type === "connected";
const gaveUp = (e: PeerEvent) => e.type === "error" && /giving up/.test(e.message);

/**
 * Both sides connected: their `connected` events (host's first). If not, the error carries what
 * coturn logged about allocations and relaying (an allocation closed by a failed relay send is the
 * libjuice/coturn defect the relay fallback works around; one never made is another story), and
 * each side's stack log (ICE, TURN, DTLS, SCTP states, stamped with the `ms` of its events: ICE
 * connected but no "DTLS handshake finished" is a lost handshake, no ICE "connected" a failed
 * check or allocation).
 */
async function connected(host: LabPeer, guest: LabPeer, ms: number) {
  try {
    return [
      await host.waitFor(isConnected, ms, "connected"),
      await guest.waitFor(isConnected, ms, "connected"),
    ];
  } catch (error) {
    const turnLines = (turn?.log() ?? "").split("\n")
      .filter((l) =>
        /ALLOCATE|REFRESH|CREATE_PERMISSION|CHANNEL_BIND|closed|error|ENETUNREACH|relay addr|: new,/i
          .test(l)
      )
      .slice(-80);
    const stacks = [host, guest].map((p) =>
      `${p.name}'s events: ${p.dump()}\n${p.name}'s stack (ms since its start):\n${p.stackLog()}`
    );
    throw new Error(
      [
        (error as Error).message,
        `coturn (last 80 lines of interest; a session's "Local relay addr" is the line before its "new"):\n${
          turnLines.join("\n")
        }`,
        ...stacks,
      ].join("\n"),
    );
  }
}

async function quit(...peers: LabPeer[]) {
  await Promise.all(peers.map((p) => p.quit()));
  for (const p of peers) {
    assert.ok(p.events.some((e) => e.type === "closed"), `${p.name} closed cleanly: ${p.dump()}`);
  }
}

/** The relay in the lab is 198.18.0.1: a relay candidate is an address of the TURN server. */
function assertPair(event: PeerEvent, local: RegExp, remote: RegExp) {
  assert.match(event.pair?.local?.type ?? "?", local, JSON.stringify(event));
  assert.match(event.pair?.remote?.type ?? "?", remote, JSON.stringify(event));
}

Deno.test("lab: NAT traversal with STUN and TURN", async (t) => {
  lab = await createLab();
  try {
    turn = await startTurn(lab, STATIC);
    url = (await startSignaling(lab)).url;

    await t.step("cone ↔ cone: STUN, server-reflexive on both ends, no relay", async () => {
      const [host, guest] = await pair("lanA", "lanB", stunOnly());
      const [a, b] = await connected(host, guest, 20000);
      console.log(`host sees ${typesOf(a)}, guest sees ${typesOf(b)}, ${b.ms} ms`);
      assertPair(a, /^srflx$/, /^srflx$/);
      assertPair(b, /^srflx$/, /^srflx$/);
      await addRow({
        scenario: "cone ↔ cone, STUN",
        candidates: typesOf(a),
        setupMs: [b.ms],
        packets: "-",
        verdict: "connected, no relay",
      });
      await quit(host, guest);
    });

    await t.step(
      "symmetric ↔ cone: fails cleanly without TURN; TURN and relay policy connect",
      async () => {
        // Three lobbies at once: the failing one takes SETUP_MS per attempt.
        const [failHost, failGuest] = await pair("lanS", "lanA", {
          ...stunOnly(),
          setupAttempts: 2,
          setupTimeoutMs: SETUP_MS,
        });
        const [symHost, symGuest] = await pair("lanS", "lanB", withTurn());
        const [relayHost, relayGuest] = await pair(
          "lanA",
          "lanB",
          withTurn({ iceTransportPolicy: "relay" }),
        );
        const [relay4Host, relay4Guest] = await pair(
          "lanA",
          "lanB",
          withTurn({ iceTransportPolicy: "relay", godot4: true }),
        );

        const [s1, s2] = await connected(symHost, symGuest, 20000);
        console.log(
          `symmetric ↔ cone with TURN: host ${typesOf(s1)}, guest ${typesOf(s2)}, ${s2.ms} ms`,
        );
        assert.ok(
          s1.pair.local.type === "relay" || s1.pair.remote.type === "relay",
          `a symmetric NAT needs the relay: ${typesOf(s1)}`,
        );
        await addRow({
          scenario: "symmetric ↔ cone, STUN+TURN",
          candidates: typesOf(s1),
          setupMs: [s2.ms],
          packets: "-",
          verdict: "connected via relay",
        });

        const relayed = [
          ["", relayHost, relayGuest],
          [" Godot 4 clients,", relay4Host, relay4Guest],
        ] as const;
        for (const [clients, host, guest] of relayed) {
          const [r1, r2] = await connected(host, guest, 20000);
          console.log(`cone ↔ cone,${clients} policy relay: ${typesOf(r1)}, ${r2.ms} ms`);
          assertPair(r1, /^relay$/, /^relay$/);
          assertPair(r2, /^relay$/, /^relay$/);
          await addRow({
            scenario: `cone ↔ cone,${clients} policy "relay"`,
            candidates: typesOf(r1),
            setupMs: [r2.ms],
            packets: "-",
            verdict: "relay forced",
          });
        }

        // Without TURN: both sides are told after setupAttempts, within the bound, and nothing
        // connected or stayed behind.
        const bound = 2 * SETUP_MS + 5000;
        const [f1, f2] = [
          await failHost.waitFor(gaveUp, bound + 5000, "giving up"),
          await failGuest.waitFor(gaveUp, bound + 5000, "giving up"),
        ];
        console.log(`symmetric ↔ cone without TURN: "${f1.message}" after ${f1.ms} / ${f2.ms} ms`);
        assert.ok(f1.ms < bound && f2.ms < bound, `told within ${bound} ms`);
        assert.match(f1.message, /failed 2 times/);
        for (const p of [failHost, failGuest]) {
          assert.ok(!p.events.some(isConnected), `${p.name} never connected`);
          await p.command({ cmd: "tally" });
          const tally = await p.waitFor((e) => e.type === "tally", 5000, "tally");
          assert.deepEqual(tally.stats, {}, `${p.name}: no peer left in the mesh`);
        }
        await addRow({
          scenario: "symmetric ↔ cone, STUN only",
          candidates: "none",
          setupMs: [f1.ms],
          packets: "-",
          verdict: "app told after 2 attempts",
        });
        await quit(
          failHost,
          failGuest,
          symHost,
          symGuest,
          relayHost,
          relayGuest,
          relay4Host,
          relay4Guest,
        );
      },
    );

    await t.step(
      "TURN server without a route to private addresses: the relay fallback connects",
      async () => {
        // coturn closes an allocation whose relay send fails (ENETUNREACH to a peer's host
        // candidate) and libjuice never allocates again: policy "all" cannot connect. The client's
        // retry with policy "relay" sends only to relay candidates and connects.
        await lab.wanDefaultRoute(false);
        const options = withTurn({ setupAttempts: 2, setupTimeoutMs: SETUP_MS });
        const [plainHost, plainGuest] = await pair("lanS", "lanA", {
          ...options,
          relayFallback: false,
        });
        const [fixHost, fixGuest] = await pair("lanS", "lanB", options);
        const [fix4Host, fix4Guest] = await pair("lanS", "lanB", { ...options, godot4: true });
        const [x1, x2] = await connected(fixHost, fixGuest, 2 * SETUP_MS + 10000);
        console.log(`with the relay fallback: ${typesOf(x1)} after ${x2.ms} ms`);
        assertPair(x1, /^relay$/, /^relay$/);
        const [y1, y2] = await connected(fix4Host, fix4Guest, 2 * SETUP_MS + 10000);
        console.log(`with the relay fallback, Godot 4: ${typesOf(y1)} after ${y2.ms} ms`);
        assertPair(y1, /^relay$/, /^relay$/);
        // Godot 4: the higher id (the guest) offers, so it is the side that sets up again.
        for (const [offerer, what] of [[fixHost, "Godot 3"], [fix4Guest, "Godot 4"]] as const) {
          assert.ok(
            offerer.events.some((e) => e.type === "error" && /setting it up again/.test(e.message)),
            `${what}: the offering side set the connection up again: ${offerer.dump()}`,
          );
        }
        const g = await plainHost.waitFor(gaveUp, 2 * SETUP_MS + 10000, "giving up");
        console.log(`without it: "${g.message}" after ${g.ms} ms`);
        assert.ok(!plainHost.events.some(isConnected) && !plainGuest.events.some(isConnected));
        await addRow({
          scenario: "symmetric ↔ cone, TURN losing allocations, fallback",
          candidates: typesOf(x1),
          setupMs: [x2.ms],
          packets: "-",
          verdict: "connected on retry (without fallback: gave up)",
        });
        await quit(plainHost, plainGuest, fixHost, fixGuest, fix4Host, fix4Guest);
        await lab.wanDefaultRoute(true);
      },
    );
  } finally {
    await Promise.all(running.map((p) => p.proc.stop("SIGKILL")));
    await turn?.stop();
    await lab.teardown();
  }
});

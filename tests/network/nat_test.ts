/**
 * NAT traversal on real stacks in the lab: STUN between two cone NATs, a symmetric NAT with and
 * without TURN (coturn), the relay-only policy, and the relay fallback that works around
 * libjuice's failure behind a symmetric NAT with policy "all".
 */
import assert from "node:assert/strict";
import { createLab, type Lab } from "./_lab.ts";
import { startTurn, type Turn } from "./_coturn.ts";
import { addRow, type LabPeer, startPair, startSignaling, typesOf } from "./_scenario.ts";

const STUN_ONLY = (turn: Turn) => [{ urls: turn.stunUrl }];
const STATIC = { kind: "static", username: "lab", credential: "lab-password" } as const;
const WITH_TURN = (turn: Turn) => [
  { urls: turn.stunUrl },
  { urls: turn.url, username: STATIC.username, credential: STATIC.credential },
];

let lab: Lab;
let turn: Turn;
let url: string;

async function connectedBoth(host: LabPeer, guest: LabPeer, ms: number) {
  const a = await host.waitFor((e) => e.type === "connected", ms, "connected");
  const b = await guest.waitFor((e) => e.type === "connected", ms, "connected");
  return [a, b];
}

Deno.test("lab: NAT traversal", async (t) => {
  lab = await createLab();
  const peers: LabPeer[] = [];
  try {
    turn = await startTurn(lab, STATIC);
    url = (await startSignaling(lab)).url;

    await t.step("two cone NATs connect through STUN, srflx on both ends", async () => {
      const [host, guest] = await startPair(lab, url, "lanA", "lanB", {
        iceServers: STUN_ONLY(turn),
      });
      peers.push(host, guest);
      const [a, b] = await connectedBoth(host, guest, 20000);
      console.log(`host ${typesOf(a)} ${a.ms} ms; guest ${typesOf(b)} ${b.ms} ms`);
      assert.equal(a.pair.local.type, "srflx");
      assert.equal(a.pair.remote.type, "srflx");
      assert.equal(b.pair.local.type, "srflx");
      await addRow({
        scenario: "cone ↔ cone, STUN",
        candidates: typesOf(a),
        setupMs: [b.ms],
        packets: "-",
        verdict: "connected, no relay",
      });
      await Promise.all([host.quit(), guest.quit()]);
    });
  } finally {
    for (const p of peers) await p.proc.stop("SIGKILL");
    await turn?.stop();
    await lab.teardown();
  }
});

/**
 * The mesh across the lab: the demo's four-peer traffic check over three NATs and the wan (a mixed
 * lobby, as `deno task demo --mixed`: every second peer speaks Godot 4, with the same ICE flags),
 * and a 10,000-packet reliable transfer through 5 % random loss.
 */
import assert from "node:assert/strict";
import { createLab, type Lab, type NodeName } from "./_lab.ts";
import { startTurn, type Turn } from "./_coturn.ts";
import { addRow, type LabPeer, startPair, startSignaling } from "./_scenario.ts";
import type { PeerResult } from "../../demo/peer.ts";
import { lines } from "../../demo/_lines.ts";

const deno = Deno.execPath();
const ROOT = new URL("../../", import.meta.url).pathname;
const STATIC = { kind: "static", username: "lab", credential: "lab-password" } as const;

let lab: Lab;
let turn: Turn;
let url: string;

Deno.test("lab: the mesh across NATs", async (t) => {
  lab = await createLab();
  const running: LabPeer[] = [];
  try {
    turn = await startTurn(lab, STATIC);
    url = (await startSignaling(lab)).url;
    const turnFlag = `turn:${STATIC.username}:${STATIC.credential}@${turn.url.slice(5)}`;

    await t.step(
      "the demo's 4 peers (Godot 3 and Godot 4) over three NATs and the wan pass its traffic check",
      async () => {
        const nodes: NodeName[] = ["lanA", "lanB", "lanS", "wan"];
        const started = performance.now();
        const procs: { node: NodeName; proc: ReturnType<Lab["exec"]>; events: unknown[] }[] = [];
        const results: PeerResult[] = [];
        const joined = Promise.withResolvers<string>();
        /** When each peer saw all three others (it starts sending then), ms since the start. */
        const sending = new Map<NodeName, number>();
        const done = Promise.withResolvers<void>();
        const spawn = (node: NodeName, lobby: string, godot4: boolean) => {
          const proc = lab.exec(node, [
            deno,
            "run",
            "-A",
            `${ROOT}demo/peer.ts`,
            "--url",
            url,
            "--lobby",
            lobby,
            "--json",
            "--expect",
            "4",
            "--duration",
            "3",
            "--stun",
            turn.stunUrl,
            "--turn",
            turnFlag,
            ...(godot4 ? ["--godot4"] : []),
          ], { cwd: ROOT });
          const entry = { node, proc, events: [] as unknown[] };
          procs.push(entry);
          (async () => {
            for await (const line of lines(proc.child.stdout)) {
              const msg = JSON.parse(line);
              entry.events.push(msg);
              if (msg.type === "joined") joined.resolve(msg.lobby);
              if (msg.type === "status" && msg.phase === "sending" && !sending.has(node)) {
                sending.set(node, Math.round(performance.now() - started));
              }
              if (msg.type === "result") {
                results.push({ ...msg, node });
                if (results.length === nodes.length) done.resolve();
              }
            }
          })().catch(() => {});
        };
        // As `deno task demo --mixed`: the host speaks Godot 3, every second peer Godot 4.
        spawn(nodes[0], "", false);
        const lobby = await joined.promise;
        nodes.slice(1).forEach((node, i) => spawn(node, lobby, i % 2 === 0));
        const timer = setTimeout(
          () => done.reject(new Error("no verdict from every peer in 60 s")),
          60000,
        );
        try {
          await done.promise;
        } finally {
          clearTimeout(timer);
          for (const p of procs) await p.proc.write("quit");
          await Promise.all(procs.map((p) => p.proc.stop()));
        }
        const pairs = new Set<string>();
        for (const r of results) {
          const node = (r as PeerResult & { node: string }).node;
          console.log(
            `${node} peer ${r.id}: ${r.ok ? "ok" : "FAILED"} ${JSON.stringify(r.pairs)} ${
              r.problems.join("; ")
            }`,
          );
          for (const p of Object.values(r.pairs ?? {})) pairs.add(p);
        }
        const bad = results.filter((r) => !r.ok);
        assert.equal(bad.length, 0, JSON.stringify(bad));
        const reliable = results.reduce((s, r) => s + r.in[2], 0);
        await addRow({
          scenario: "4-peer demo mesh (Godot 3 + 4): lanA, lanB, lanS, wan",
          candidates: [...pairs].sort().join(" "),
          setupMs: [Math.max(...sending.values())],
          packets: `${reliable} reliable, all in order`,
          verdict: "demo traffic check passed",
        });
      },
    );

    await t.step(
      "5 % loss on a LAN link: 10,000 reliable packets complete and in order",
      async () => {
        const [host, guest] = await startPair(lab, url, "lanA", "lanB", {
          iceServers: [{ urls: turn.stunUrl }],
        });
        running.push(host, guest);
        const c = await guest.waitFor((e) => e.type === "connected", 20000, "connected");
        await host.waitFor((e) => e.type === "connected", 20000, "connected");
        await lab.loss("lanA", 5);
        const t0 = performance.now();
        await host.command({ cmd: "send", count: 10000, mode: 2, size: 1000 });
        const sent = await host.waitFor((e) => e.type === "sent", 90000, "reliable sent");
        // Unreliable packets through the same loss: losses are reported, not hidden.
        await host.command({ cmd: "send", count: 2000, mode: 0 });
        await host.waitFor((e) => e.type === "sent" && e.mode === 0, 30000, "unreliable sent");
        let tally;
        const until = Date.now() + 60000;
        while (true) {
          await guest.command({ cmd: "tally" });
          const n = guest.events.length;
          tally = await guest.waitFor(
            (e) => e.type === "tally" && guest.events.indexOf(e) >= n - 1,
            5000,
            "tally",
          );
          const from = Object.values(tally.from)[0] as
            | { received: number[]; fin: number[] | null }
            | undefined;
          if ((from?.received[2] ?? 0) >= 10000 && from?.fin?.[0] === 2000) break;
          if (Date.now() > until) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        const arrivedMs = Math.round(performance.now() - t0);
        const dropped = await lab.dropped("lanA");
        await lab.restore("lanA");
        const from = Object.values(tally.from)[0] as {
          received: number[];
          reordered: number[];
          problems: string[];
        };
        const unreliableLost = 2000 - from.received[0];
        console.log(
          `reliable ${from.received[2]}/10000 × 1000 B queued in ${sent.ms} ms (ERR_BUSY ` +
            `${sent.busy}), all arrived within ${arrivedMs} ms, ` +
            `reordered ${from.reordered[2]}; unreliable ${
              from.received[0]
            }/2000 (lost ${unreliableLost}); ` +
            `nftables dropped ${dropped} packets; problems: ${from.problems.join("; ") || "none"}`,
        );
        assert.equal(from.received[2], 10000, "every reliable packet arrived");
        assert.equal(from.reordered[2], 0, "in order");
        assert.deepEqual(from.problems, [], "the demo's judge is satisfied");
        assert.ok(dropped > 0, "the loss rule dropped packets");
        assert.ok(unreliableLost > 0, "unreliable losses show in the counts");
        await addRow({
          scenario: "5 % loss on lanA, reliable + unreliable",
          candidates: `${c.pair.local.type}↔${c.pair.remote.type}`,
          setupMs: [c.ms],
          packets: `10000/10000 reliable (1000 B) in order; unreliable ${
            from.received[0]
          }/2000 (${unreliableLost} lost, reported)`,
          verdict: `ok (${dropped} packets dropped by the link)`,
        });
        await Promise.all([host.quit(), guest.quit()]);
      },
    );
  } finally {
    await Promise.all(running.map((p) => p.proc.stop("SIGKILL")));
    await turn?.stop();
    await lab.teardown();
  }
});

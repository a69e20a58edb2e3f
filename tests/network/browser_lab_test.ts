/**
 * The browser path through a real relay: headless Chromium in one NAT's LAN and a node-datachannel
 * peer behind the other NAT join one lobby with policy "relay". Neither holds a static TURN
 * password: both fetch time-limited credentials (coturn's `use-auth-secret`) from the signaling
 * server's `/ice-servers`, which also serves the page. The page speaks Godot 4 (`?protocol=godot4`)
 * in the Godot 3 peer's lobby (a mixed mesh lobby): its ICE query parameters reach the Godot 4
 * client as they reach the Godot 3 one.
 */
import assert from "node:assert/strict";
import { createLab, WAN_IP } from "./_lab.ts";
import { startTurn } from "./_coturn.ts";
import { addRow, LabPeer, startPeer, startSignaling } from "./_scenario.ts";

const deno = Deno.execPath();
const ROOT = new URL("../../", import.meta.url).pathname;
const PACKETS = 50;

Deno.test("lab: Chromium behind a NAT joins a node-datachannel peer through TURN", async () => {
  const hasChromium = await Deno.stat("/usr/bin/chromium").then((s) => s.isFile, () => false);
  assert.ok(
    hasChromium || Deno.env.get("CHROMIUM_PATH"),
    "Chromium is missing (apt-get install -y chromium)",
  );
  const lab = await createLab();
  const secret = crypto.randomUUID();
  const running: LabPeer[] = [];
  let turn;
  try {
    turn = await startTurn(lab, { kind: "rest", secret }, 3479);
    const { url } = await startSignaling(lab, [
      "--web",
      "--stun",
      turn.stunUrl,
      "--turn",
      turn.url,
      "--turn-secret",
      secret,
      "--turn-ttl",
      "600",
    ]);
    const node = startPeer(
      lab,
      "lanB",
      url,
      "",
      { iceTransportPolicy: "relay" },
      "node peer in lanB",
      true,
    );
    running.push(node);
    const joined = await node.waitFor((e) => e.type === "joined", 30000, "join");
    const page = `http://${WAN_IP}:9080/?lobby=${joined.lobby}&protocol=godot4&ice=server&relay=1`;
    const browser = new LabPeer(
      lab.exec("lanA", [
        deno,
        "run",
        "-A",
        `${ROOT}tests/network/_browser.ts`,
        page,
        String(PACKETS),
      ], {
        cwd: ROOT,
      }),
      "chromium in lanA",
    );
    running.push(browser);
    const b = await browser.waitFor(
      (e) => e.type === "connected" || e.type === "timeout",
      70000,
      "connected",
    );
    assert.equal(b.type, "connected", browser.dump());
    const n = await node.waitFor((e) => e.type === "connected", 10000, "connected");
    console.log(
      `chromium sees ${b.candidates} after ${b.ms} ms; the node peer sees ${n.pair.local.type}↔${n.pair.remote.type}`,
    );
    assert.equal(b.protocol, "godot4", "the page speaks Godot 4");
    assert.equal(b.candidates, "relay↔relay");
    assert.equal(n.pair.local.type, "relay");
    assert.equal(n.pair.remote.type, "relay");

    // Both directions: reliable packets to the page, its chat lines back.
    await node.command({ cmd: "send", count: PACKETS, mode: 2 });
    const got = await browser.waitFor((e) => e.type === "received", 30000, "packets");
    assert.ok(got.in[2] >= PACKETS);
    let fromPage = 0;
    for (let i = 0; i < 50 && fromPage < PACKETS; i++) {
      await node.command({ cmd: "tally" });
      await new Promise((r) => setTimeout(r, 200));
      const tally = node.events.findLast((e) => e.type === "tally");
      fromPage = (tally?.stats?.[String(n.peer)]?.received as number | undefined) ?? 0;
    }
    assert.ok(fromPage >= PACKETS, `the node peer got ${fromPage} packets from the page`);

    // coturn authenticated both with time-limited user names ("<expiry>:<name>").
    const log = turn.log();
    const users = [
      ...log.matchAll(/user <(\d+):webrtc-mesh>: incoming packet ALLOCATE processed, success/g),
    ];
    assert.ok(users.length >= 2, `two REST allocations in coturn's log:\n${log.slice(-3000)}`);
    assert.ok(Number(users[0][1]) > Date.now() / 1000, "the credential expires in the future");
    await addRow({
      scenario: "Chromium (lanA, Godot 4) ↔ node-datachannel (lanB, Godot 3), TURN REST, relay",
      candidates: b.candidates,
      setupMs: [b.ms],
      packets: `${PACKETS} reliable to the page, ${fromPage} from it`,
      verdict: "connected via coturn",
    });
    await browser.proc.write("quit");
    await browser.waitFor((e) => e.type === "closed", 15000, "closed");
    await node.quit();
  } finally {
    await Promise.all(running.map((p) => p.proc.stop("SIGKILL")));
    await turn?.stop();
    await lab.teardown();
  }
});

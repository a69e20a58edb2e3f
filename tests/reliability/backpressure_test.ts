/**
 * Issue 17: per-peer back-pressure in the star topology, on real node-datachannel connections. A
 * client process that stops reading (SIGSTOP: its stack stops acknowledging, so the server's
 * reliable channel to it backs up) must not slow the others: the server's reliable broadcasts go on
 * reaching every other client, in order and complete; only the stopped client misses packets
 * (counted in `stats()`), a unicast to it is `ERR_BUSY`, and once it reads again it gets broadcasts
 * again.
 */
import { assert, assertEquals } from "@std/assert";
import { GodotError, TransferMode } from "../../core/constants.ts";
import { joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { lines } from "../../demo/_lines.ts";
import { until } from "../_mesh.ts";

const HIGH_WATER_MARK = 256 << 10;
const PACKETS = 4000;
const SIZE = 1024;

Deno.test("a client that stops reading does not stall the server's broadcasts to the others (per-peer back-pressure)", async () => {
  const signaling = await serveSignalingDeno({ port: 0 });
  const server = await joinLobbyGodot4(signaling.url, "", {
    clientServer: true,
    peer: { highWaterMark: HIGH_WATER_MARK },
  });
  const good = await Promise.all([1, 2].map(() => joinLobbyGodot4(signaling.url, server.lobby)));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_star_client.ts", import.meta.url).pathname,
      signaling.url,
      server.lobby,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const childLines = lines(child.stdout)[Symbol.asyncIterator]();
  const peer = server.peer;
  try {
    // Each good client checks it gets every packet, in order.
    const got = good.map(() => ({ count: 0, outOfOrder: 0 }));
    good.forEach((c, i) => {
      (async () => {
        for await (const p of c.peer.packets()) {
          const seq = new DataView(p.data.buffer, p.data.byteOffset).getUint32(0);
          if (seq !== got[i].count) got[i].outOfOrder++;
          got[i].count++;
        }
      })();
    });
    const stalledId = JSON.parse((await childLines.next()).value as string).connected as number;
    await until(
      () => peer.getPeers().size === 3 && [...peer.getPeers().values()].every((p) => p.connected),
      30000,
      "3 clients connected",
    );

    child.kill("SIGSTOP");
    peer.transferMode = TransferMode.RELIABLE;
    peer.targetPeer = 0;
    const results = new Map<GodotError, number>();
    for (let seq = 0; seq < PACKETS; seq++) {
      const data = new Uint8Array(SIZE);
      new DataView(data.buffer).setUint32(0, seq);
      const r = peer.putPacket(data);
      results.set(r, (results.get(r) ?? 0) + 1);
      if (seq % 4 === 3) await new Promise((r) => setTimeout(r, 1)); // ~4 MiB/s, a busy server
    }
    // No global stall: every broadcast was accepted, although one client stopped reading.
    assertEquals([...results], [[GodotError.OK, PACKETS]], peer.lastError.message);
    await until(() => got.every((g) => g.count === PACKETS), 30000, "the others got every packet");
    assertEquals(got.map((g) => g.outOfOrder), [0, 0]);

    const stats = peer.stats().peers;
    const stalled = stats.get(stalledId)!;
    assert(stalled.busy > 0, `the stopped client missed broadcasts (busy ${stalled.busy})`);
    assertEquals(stalled.sent + stalled.busy, PACKETS);
    for (const c of good) {
      assertEquals([stats.get(c.id)!.sent, stats.get(c.id)!.busy], [PACKETS, 0]);
    }
    // A unicast to it is refused, one to a reading client is not.
    peer.targetPeer = stalledId;
    assertEquals(peer.putPacket(new Uint8Array(SIZE)), GodotError.ERR_BUSY);
    assert(peer.lastError.message.includes(`peer ${stalledId}`), peer.lastError.message);
    peer.targetPeer = good[0].id;
    assertEquals(peer.putPacket(new Uint8Array(SIZE)), GodotError.OK);

    // Reading again, it drains and gets broadcasts again.
    child.kill("SIGCONT");
    const channel = peer.getPeer(stalledId)!.channels[0];
    await until(() => channel.bufferedAmount < HIGH_WATER_MARK, 30000, "the backlog drained");
    peer.targetPeer = 0;
    const busyBefore = peer.stats().peers.get(stalledId)!.busy;
    assertEquals(peer.putPacket(new Uint8Array(SIZE)), GodotError.OK);
    assertEquals(peer.stats().peers.get(stalledId)!.busy, busyBefore);
    console.log(
      `stopped client missed ${stalled.busy} of ${PACKETS} broadcasts; the others got all of them`,
    );
  } finally {
    child.kill("SIGCONT");
    await child.stdin.close();
    await childLines.return?.(undefined);
    await child.status;
    for (const c of [...good, server]) {
      await c.close();
      await c.peer.whenClosed();
    }
    await signaling.shutdown();
  }
});

/**
 * The lobby clients' reconnect on a real stack over a real signaling server (loopback): the host's
 * mesh reports its guest `peer_interrupted` (dispatched here: loopback cannot be cut) while
 * reliable traffic flows both ways, and the host's client reconnects it over the lobby: an ICE
 * restart of the live connection on libwebrtc (the same connection, new ICE credentials on both
 * sides), a replacement connection on node-datachannel (a new connection, `peer_resumed` on both
 * sides). Either way no `peer_disconnected`, and every packet arrives once and in order. Runs on the
 * stack of `MESH_STACK` (the runner runs it on both).
 */
import { assert, assertEquals } from "@std/assert";
import { GodotError } from "../../core/constants.ts";
import type { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { joinLobby, type LobbyClient } from "../../signaling/client.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { STACK } from "../_stack.ts";
import { recordSignals, settleNative, until } from "../_mesh.ts";

const COUNT = 6000;

function ufrag(sdp: string | undefined): string {
  return /a=ice-ufrag:(\S+)/.exec(sdp ?? "")?.[1] ?? "";
}

/** Sends `COUNT` numbered reliable packets to everyone; resolves when all went out. */
async function sendAll(mesh: WebRTCMultiplayer): Promise<void> {
  for (let seq = 0; seq < COUNT;) {
    const packet = new Uint8Array(512);
    new DataView(packet.buffer).setUint32(0, seq);
    const r = mesh.putPacket(packet);
    if (r === GodotError.OK) seq++;
    else if (r === GodotError.ERR_BUSY) await new Promise((res) => setTimeout(res, 2));
    else throw new Error(`putPacket: ${mesh.lastError.message}`);
    if (seq % 100 === 0) await new Promise((res) => setTimeout(res, 5));
  }
}

/** Counts the numbered packets that arrive, and whether they came in order. */
function counter(mesh: WebRTCMultiplayer) {
  const seen = { count: 0, inOrder: true };
  (async () => {
    for await (const p of mesh.packets()) {
      if (new DataView(p.data.buffer, p.data.byteOffset).getUint32(0) !== seen.count) {
        seen.inOrder = false;
      }
      seen.count++;
    }
  })();
  return seen;
}

Deno.test(`lobby reconnect (${STACK}): an interrupted peer is reconnected over the lobby, data in order`, async () => {
  const server = await serveSignalingDeno({ port: 0, hostname: "127.0.0.1" });
  const options = {
    stack: STACK as "ndc" | "wrtc",
    mesh: { reconnect: true, highWaterMark: 1 << 20 },
  };
  const clients: LobbyClient[] = [];
  try {
    const host = await joinLobby(server.url, "", options);
    clients.push(host);
    const guest = await joinLobby(server.url, host.lobby, options);
    clients.push(guest);
    const [a, b] = [host.mesh, guest.mesh];
    const logs = [recordSignals(a), recordSignals(b)];
    for (const [i, m] of [a, b].entries()) {
      m.addEventListener("peer_interrupted", () => logs[i].push("peer_interrupted"));
      m.addEventListener("peer_resumed", () => logs[i].push("peer_resumed"));
    }
    const said: string[] = [];
    host.addEventListener("signaling_error", (e) => said.push(e.detail.message));
    await until(
      () =>
        a.stats().peers.get(guest.id)?.departure === "beacons" &&
        b.stats().peers.get(1)?.departure === "beacons",
      15000,
      "both sides proven",
    );
    const before = a.getPeer(guest.id)!.connection as unknown as {
      localDescription: { sdp: string } | null;
    };
    const beforeUfrag = ufrag(before.localDescription?.sdp);
    const [atA, atB] = [counter(a), counter(b)];
    const sending = Promise.all([sendAll(a), sendAll(b)]);
    await until(() => atA.count > COUNT / 4 && atB.count > COUNT / 4, 20000, "traffic");
    a.dispatchEvent(new CustomEvent("peer_interrupted", { detail: guest.id }));
    if (STACK === "wrtc") {
      // The same connection, renegotiated with new ICE credentials.
      await until(
        () => ufrag(before.localDescription?.sdp) !== beforeUfrag,
        10000,
        "the ICE restart's new credentials",
      );
      assert(a.getPeer(guest.id)!.connection === (before as unknown), "the same connection");
      assert(said.some((m) => m.includes("restarting ICE")), said.join("; "));
    } else {
      await until(() => logs.every((l) => l.includes("peer_resumed")), 15000, "resumed").catch(
        (e) => {
          throw new Error(`${e}: ${JSON.stringify(logs)} ${said.join("; ")}`);
        },
      );
      assert(a.getPeer(guest.id)!.connection !== (before as unknown), "a new connection");
      assert(said.some((m) => m.includes("replacing")), said.join("; "));
    }
    await sending;
    await until(() => atA.count >= COUNT && atB.count >= COUNT, 20000, "every packet");
    await new Promise((r) => setTimeout(r, 500));
    assertEquals([atA.count, atA.inOrder, atB.count, atB.inOrder], [COUNT, true, COUNT, true]);
    for (const log of logs) {
      assert(!log.some((s) => s.startsWith("peer_disconnected")), log.join(", "));
    }
    assert(a.getPeer(guest.id)?.connected === true && b.getPeer(1)?.connected === true);
  } finally {
    for (const c of clients) await c.close();
    for (const c of clients) await c.mesh.whenClosed();
    await server.shutdown();
    await settleNative();
  }
});

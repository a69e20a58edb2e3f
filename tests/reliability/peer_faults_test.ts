/**
 * Item 2 of issue 8: peer faults on real node-datachannel connections. (Already covered in
 * tests/effects/lifecycle_test.ts: a remote closing one data channel, a connection never signaled,
 * a remote closing its connection.)
 */
import { assert, assertEquals } from "@std/assert";
import { ConnectionStatus, GodotError } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { recordSignals, until, within } from "../_mesh.ts";
import { type ChildPeer, spawnChildPeer } from "./_child.ts";
import { createPeerConnection } from "../_stack.ts";
import type { RTCDataChannelLike, RTCPeerConnectionLike } from "../../effects/w3c.ts";
import { joinLobby, type LobbyClient } from "../../signaling/client.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";

/**
 * How long after the SIGKILL both departures must be signaled, s. Liveness (on by default) signals
 * them in about 3 s. The bound is the stack's own give-up, should liveness miss: on
 * node-datachannel, with traffic in flight, SCTP's retransmissions run out after 12.6 s of SCTP
 * time, 14-16 s on an idle machine, 21-28 s measured at a load average of 20-35 on 2 cores
 * (usrsctp's clock advances 10 ms per wake-up of its "SCTP timer" thread, which woke 85 times a
 * second there, not 100; and the retransmission timeout grows with the round trips measured under
 * load). libjuice's ICE consent check runs on the wall clock and fails the connection at the latest
 * 30 s after the last answered check.
 */
const DETECTION_BOUND_S = 60;

/** How a connection and its three channels look from here, for a failure message. */
function stackView(
  name: string,
  pc: RTCPeerConnectionLike,
  channels: readonly RTCDataChannelLike[],
) {
  const ice = (pc as { iceConnectionState?: string }).iceConnectionState;
  const chans = channels.map((ch) => `${ch.label}=${ch.readyState}/${ch.bufferedAmount}`);
  return `${name}: ${pc.connectionState} (ice ${ice}) ${chans.join(" ")}`;
}

/** The children's exit status and the start of their stderr, for a failure message. */
async function childView(children: readonly ChildPeer[]): Promise<string> {
  const views = await Promise.all(children.map(async (c, i) => {
    const status = await Promise.race([c.process.status, Promise.resolve(undefined)]);
    const err = await Promise.race([c.stderr, Promise.resolve("")]);
    return `child ${i}: ${status ? `exited ${JSON.stringify(status)}` : "running"} ${
      err.slice(0, 800)
    }`;
  }));
  return views.join("; ");
}

Deno.test("SIGKILL of peer processes mid-transfer: peer_disconnected (and server_disconnected) within the stack's timeout, connections freed", async () => {
  // Mesh 1 talks to child 2; mesh 3 is a server-compatibility client of child 1 (its host).
  const mesh = new WebRTCMultiplayer({ highWaterMark: 1 << 20 });
  const client = new WebRTCMultiplayer({ highWaterMark: 1 << 20 });
  const log = recordSignals(mesh);
  const clientLog = recordSignals(client);
  mesh.initialize(1);
  client.initialize(3, true);
  const children = [await spawnChildPeer(mesh, 1, 2), await spawnChildPeer(client, 3, 1)];
  try {
    const setup = () => children.map((c, i) => stackView(`connection ${i}`, c.pc, [])).join("; ");
    try {
      await within(Promise.all(children.map((c) => c.connected)), 30000, "both children", setup);
    } catch (e) {
      throw new Error(`${(e as Error).message}; ${await childView(children)}`);
    }
    await until(() => mesh.getPeer(2)?.connected === true, 15000, "peer 2 connected");
    await until(() => client.getPeer(1)?.connected === true, 15000, "host connected");
    assertEquals(client.getConnectionStatus(), ConnectionStatus.CONNECTED);
    // Mid-transfer: packets flow both ways.
    await until(() => mesh.getAvailablePacketCount() > 50, 10000, "packets from child 2");
    await until(() => client.getAvailablePacketCount() > 50, 10000, "packets from the host");
    const payload = new Uint8Array(4096);
    for (let i = 0; i < 100; i++) {
      assertEquals(mesh.putPacket(payload), GodotError.OK);
      assertEquals(client.putPacket(payload), GodotError.OK);
    }
    const connections = [mesh.getPeer(2)!.connection, client.getPeer(1)!.connection];
    const channels = [...mesh.getPeer(2)!.channels, ...client.getPeer(1)!.channels];
    const at = (m: WebRTCMultiplayer, signal: string) =>
      new Promise<number>((resolve) =>
        m.addEventListener(signal, () => resolve(performance.now()))
      );
    const gone = [at(mesh, "peer_disconnected"), at(client, "server_disconnected")];
    const killedAt = performance.now();
    for (const c of children) c.process.kill("SIGKILL");
    for (const c of children) {
      assertEquals((await within(c.process.status, 10000, "a child's exit")).signal, "SIGKILL");
    }
    // Keep sending while we wait, as a game would (errors are fine once the peer is gone).
    let sending = true;
    const sender = (async () => {
      while (sending) {
        mesh.putPacket(payload);
        client.putPacket(payload);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    let detected: number[];
    try {
      detected = await within(
        Promise.all(gone),
        DETECTION_BOUND_S * 1000,
        `peer_disconnected and server_disconnected after the SIGKILL`,
        () =>
          `mesh signals ${log.join(",")}; client signals ${clientLog.join(",")}; ${
            connections.map((pc, i) =>
              stackView(`connection ${i}`, pc, channels.slice(3 * i, 3 * i + 3))
            )
              .join("; ")
          }`,
      );
    } finally {
      sending = false;
      await sender;
    }
    const seconds = detected.map((t) => (t - killedAt) / 1000);
    console.log(
      `SIGKILL detected after ${seconds[0].toFixed(2)} s (peer) and ${
        seconds[1].toFixed(2)
      } s (host)`,
    );
    assertEquals(log, ["peer_connected(2)", "peer_disconnected(2)"]);
    assertEquals(clientLog, [
      "peer_connected(1)",
      "connection_succeeded",
      "peer_disconnected(1)",
      "server_disconnected",
    ]);
    assertEquals(mesh.hasPeer(2), false);
    assertEquals(client.hasPeer(1), false);
    assertEquals(client.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
    assertEquals(client.putPacket(payload), GodotError.ERR_UNCONFIGURED);
    assert(client.lastError.message.length > 0);
    for (const c of connections) assertEquals(c.connectionState, "closed", "connection freed");
    await Promise.all([mesh.whenClosed(), client.whenClosed()]);
    assertEquals(channels.map((c) => c.readyState), Array(6).fill("closed"));
    // The queued packets of the dead peers are still readable.
    assert(mesh.getAvailablePacketCount() > 0);
    while (mesh.getPacket() !== undefined);
    assertEquals(mesh.getAvailablePacketCount(), 0);
  } finally {
    for (const c of children) {
      try {
        c.process.kill("SIGKILL");
      } catch {
        // already gone
      }
      await within(c.process.status, 10000, "a child's exit");
      await within(c.closeInput(), 10000, "a child's standard input to close");
      await within(c.stderr, 10000, "the end of a child's stderr");
    }
    mesh.close();
    client.close();
    await Promise.all([mesh.whenClosed(), client.whenClosed()]);
  }
});

Deno.test("close() during connection setup: no native handle or timer left, the process exits on its own", async () => {
  const script = new URL("./_close_during_setup.ts", import.meta.url).pathname;
  const runs = ["added", "offer", "described", "connecting"].map(async (stage) => {
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, stage],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 10000);
    const out = await child.output();
    clearTimeout(killer);
    const seconds = (performance.now() - started) / 1000;
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    return { stage, code: out.code, signal: out.signal, seconds, stdout, stderr };
  });
  for (const r of await Promise.all(runs)) {
    assertEquals(r.signal, null, `${r.stage}: killed after 10 s, so it did not exit on its own`);
    assertEquals(r.code, 0, `${r.stage}: ${r.stderr}`);
    assert(!/panic|Handle hosted by disposed/i.test(r.stderr), `${r.stage}: ${r.stderr}`);
    assert(r.seconds < 8, `${r.stage}: took ${r.seconds} s`);
    assertEquals(
      r.stdout.trim(),
      `closed at stage ${r.stage}: closed,closed,closed,closed`,
    );
  }
});

Deno.test("ICE candidates that arrive before the remote description are held and applied (real signaling)", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const sent: string[] = [];
  /** A WebSocket that delays descriptions by 300 ms, so the candidates overtake them. */
  class DelayDescriptions extends WebSocket {
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === "string" && /^[OA]: /.test(data)) {
        setTimeout(() => {
          sent.push(data.slice(0, 1));
          if (this.readyState === WebSocket.OPEN) super.send(data);
        }, 300);
        return;
      }
      if (typeof data === "string") sent.push(data.slice(0, 1));
      super.send(data);
    }
  }
  const clients: LobbyClient[] = [];
  const options = { createPeerConnection, WebSocket: DelayDescriptions };
  try {
    clients.push(await joinLobby(server.url, "", options));
    clients.push(await joinLobby(server.url, clients[0].lobby, options));
    const errors: string[] = [];
    for (const c of clients) {
      c.addEventListener("signaling_error", (e) => errors.push(e.detail.message));
    }
    await until(
      () => clients.every((c) => [...c.mesh.getPeers().values()].some((p) => p.connected)),
      15000,
      "both connected",
    );
    // The offerer sends its candidates only once it has the answer; the answerer sends its own
    // at once, so with the answer delayed they reach the offerer before its remote description.
    const answer = sent.indexOf("A");
    assert(
      answer > 0 && sent.slice(sent.indexOf("O"), answer).includes("C"),
      `a candidate went out before the answer: ${sent.join("")}`,
    );
    assertEquals(errors, []);
    clients[1].mesh.putPacket(new Uint8Array([42]));
    await until(() => clients[0].mesh.getAvailablePacketCount() === 1, 5000, "packet");
    assertEquals([...clients[0].mesh.getPacket()!], [42]);
  } finally {
    for (const c of clients) await c.close();
    await Promise.all(clients.map((c) => c.mesh.whenClosed()));
    await server.shutdown();
  }
});

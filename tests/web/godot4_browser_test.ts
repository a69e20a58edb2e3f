/**
 * Godot 4's extra channels across stacks: a Godot 4 client in headless Chromium (the browser's
 * own `RTCPeerConnection`) and a Godot 4 server on node-datachannel in this process, both with
 * `channelsConfig` `[RELIABLE, UNRELIABLE]`. The extra channels are read back from Chromium's and
 * node-datachannel's channel objects, and packets cross on each extra channel both ways with the
 * channel and mode the peek getters report. Signaling goes through `page.evaluate` (offer, answer,
 * trickled candidates). Lean on purpose: one page, no server.
 *
 * The browser closes first, as a player leaving does. That order found a stack defect: the mesh
 * removes the peer at once and closes its connection, whose native close the node-datachannel
 * adapter runs 250 ms later; the channels were already closed, so `whenClosed()` returned at once,
 * and a `deno test` process that ended inside those 250 ms crashed with SIGSEGV at exit in about
 * 1 run of 15 (core dump: a call into node-datachannel's PeerConnectionWrapper on a freed object).
 * `whenClosed()` now also waits for the adapter's delayed native close (`whenNativeClosed`): 0
 * crashes in 30 runs, against 2 in 30 with that wait disabled (same order, same machine).
 */
import { assertEquals } from "@std/assert";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import { createPeerConnection, type IceCandidateLike } from "../../adapters/node_datachannel.ts";
import { ConnectionStatus, GodotError, TransferMode } from "../../core/constants.ts";
import { WebRTCMultiplayerPeer } from "../../effects/multiplayer_peer.ts";
import { until } from "../_mesh.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "./_chromium.ts";

const root = new URL("../../", import.meta.url).pathname;
const { RELIABLE, UNRELIABLE } = TransferMode;
/** Unreliable lifetime, ms: long enough that a loaded machine loses nothing this test counts. */
const LIFE = 500;
const EXPECTED_CHANNELS = [
  ["reliable", 1, true, null, "open"],
  ["ordered", 2, true, LIFE, "open"],
  ["unreliable", 3, false, LIFE, "open"],
  ["4", 4, true, null, "open"],
  ["5", 5, false, LIFE, "open"],
];

Deno.test("browser: a Godot 4 client in Chromium and a node-datachannel server share extra channels", async () => {
  const bundle = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["tests/web/_godot4_page.ts"],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["es2022"],
    write: false,
    logLevel: "silent",
  });
  const server = new WebRTCMultiplayerPeer();
  assertEquals(server.createServer([RELIABLE, UNRELIABLE]), GodotError.OK);
  const pc = createPeerConnection();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.setContent("<!doctype html><title>godot4</title>");
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
    // deno-lint-ignore no-explicit-any
    type G4 = any;
    const g4 = <T>(f: (g: G4, arg: never) => T, arg?: unknown) =>
      page.evaluate(
        ([src, a]) => new Function("g", "a", `return (${src})(g, a)`)((globalThis as G4).g4, a),
        [f.toString(), arg] as const,
      ) as Promise<Awaited<T>>;

    assertEquals(server.addPeer(pc, 2, LIFE), GodotError.OK);
    pc.addEventListener("icecandidate", (e) => {
      const c = (e as Event & { candidate?: IceCandidateLike | null }).candidate;
      if (c?.candidate) {
        g4((g, a) => g.addCandidate(a), { candidate: c.candidate, sdpMid: c.sdpMid }).catch(
          () => {},
        );
      }
    });
    // Godot 4's demo: the higher id (the client) offers.
    const offer = await g4((g, a) => g.start(2, a), LIFE);
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await g4((g, a) => g.answer(a), pc.localDescription!.sdp);
    const trickle = setInterval(async () => {
      for (const c of await g4((g) => g.takeCandidates()).catch(() => [])) {
        await pc.addIceCandidate(c).catch(() => {});
      }
    }, 20);
    try {
      await until(() => server.getPeer(2)?.connected === true, 15000, "server sees client 2");
    } finally {
      clearInterval(trickle);
    }
    const clientUp = async () => (await g4((g) => g.status())) === ConnectionStatus.CONNECTED;
    const end = Date.now() + 10000;
    while (!(await clientUp()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assertEquals(await g4((g) => g.signals()), ["peer_connected(1)", "connected_to_server"]);

    // The extra channels, read back from both stacks' channel objects.
    assertEquals(await g4((g) => g.channels()), EXPECTED_CHANNELS);
    assertEquals(
      server.getPeer(2)!.channels.map((c) => [
        c.label,
        c.id,
        c.ordered,
        c.maxPacketLifeTime,
        c.readyState,
      ]),
      EXPECTED_CHANNELS,
    );

    // Server -> browser on extra channels 1 and 2 and a reserved one.
    for (const channel of [2, 1, 0]) {
      server.transferChannel = channel;
      assertEquals(server.putPacket(new Uint8Array([channel])), GodotError.OK);
    }
    let got: Array<[number, number, number, number[]]> = [];
    const until2 = Date.now() + 5000;
    while (got.length < 3 && Date.now() < until2) {
      got = [...got, ...await g4((g) => g.drain())];
      await new Promise((r) => setTimeout(r, 20));
    }
    // Order of arrival across channels is the network's; what each packet says is not.
    assertEquals(
      got.sort((a, b) => a[1] - b[1]),
      [[1, 0, RELIABLE, [0]], [1, 1, RELIABLE, [1]], [1, 2, UNRELIABLE, [2]]],
    );

    // Browser -> server on both extra channels.
    assertEquals(await g4((g) => g.send(1, [11])), GodotError.OK);
    assertEquals(await g4((g) => g.send(2, [12])), GodotError.OK);
    await until(() => server.getAvailablePacketCount() === 2, 5000, "2 packets at the server");
    const seen: Array<[number, number, number, number]> = [];
    while (server.getAvailablePacketCount() > 0) {
      const meta = [server.getPacketPeer(), server.getPacketChannel(), server.getPacketMode()];
      seen.push([meta[0], meta[1], meta[2], server.getPacket()![0]]);
    }
    // Both were queued before reading: the lowest channel is served first.
    assertEquals(seen, [[2, 1, RELIABLE, 11], [2, 2, UNRELIABLE, 12]]);
    assertEquals(errors, []);
    // The browser closes first, as a leaving player does; this side closes right after, while the
    // stack may still be closing the connection on its own threads (see the header).
    await g4((g) => g.close());
  } finally {
    server.close();
    // Also waits for the native close the adapter runs after a remote close (see the header).
    await server.whenClosed();
    await browser.close();
  }
});

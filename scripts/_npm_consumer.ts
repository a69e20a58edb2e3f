/**
 * The consumer code `./npm_test.ts` writes into a fresh Node project that installed the packed
 * npm package: the `node --test` suite over node-datachannel ({@link CONSUMER_TEST}), the one for
 * the optional `@roamhq/wrtc` stack ({@link CONSUMER_WRTC_TEST}), and a TypeScript consumer of
 * the public types for `tsc --noEmit` ({@link CONSUMER_TS}). Each imports the package by name.
 *
 * @module
 */
import { NPM_NAME } from "./build_npm.ts";

/** The Node test run inside the temporary project. */
export const CONSUMER_TEST = `
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionStatus,
  GodotError,
  TransferMode,
  WebRTCMultiplayer,
} from "${NPM_NAME}";
import { joinLobby } from "${NPM_NAME}/signaling";
import { serveSignalingNode } from "${NPM_NAME}/signaling/node";
import { connectPair, createPeerConnection } from "${NPM_NAME}/node";
import { execFileSync } from "node:child_process";

const MODES = [TransferMode.RELIABLE, TransferMode.UNRELIABLE_ORDERED, TransferMode.UNRELIABLE];

/** Set by a test: describes the state when a wait times out. */
let diagnose = () => "";

async function until(condition, what, ms = 30000) {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what + "; " + diagnose());
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A mesh whose signals are recorded as "name" or "name:id". */
function recordedMesh() {
  const mesh = new WebRTCMultiplayer();
  const signals = [];
  for (const name of ["peer_connected", "peer_disconnected", "connection_succeeded", "server_disconnected"]) {
    mesh.addEventListener(name, (event) => {
      signals.push(event.detail === undefined || event.detail === null ? name : name + ":" + event.detail);
    });
  }
  return { mesh, signals };
}

test("the main and signaling entry points load no native code", () => {
  // A fresh process imports them and lists the shared objects mapped into it (Linux).
  const maps = execFileSync(process.execPath, ["--input-type=module", "-e",
    'const fs = await import("node:fs"); await import("${NPM_NAME}"); ' +
    'await import("${NPM_NAME}/signaling"); await import("${NPM_NAME}/stack"); ' +
    'process.stdout.write(fs.readFileSync("/proc/self/maps", "utf8"));',
  ], { encoding: "utf8" });
  assert.doesNotMatch(maps, /[.]node$/m);
});

test("the wrtc stack is not installed with the package, and choosing it says what to install", async () => {
  const { loadStack } = await import("${NPM_NAME}/stack");
  await assert.rejects(() => loadStack("wrtc"), /the wrtc stack failed to load .is @roamhq.wrtc installed/);
  await assert.rejects(() => loadStack("quic"), /unknown WebRTC stack "quic"/);
});

test("runs under Node, not Deno", () => {
  assert.equal(typeof globalThis.Deno, "undefined");
  assert.match(process.version, /^v\\d+/);
});

test("the main entry point works without a WebRTC stack", () => {
  const mesh = new WebRTCMultiplayer();
  assert.equal(mesh.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
  assert.equal(mesh.putPacket(new Uint8Array([1])), GodotError.ERR_UNCONFIGURED);
  assert.match(mesh.lastError.message, /initialize/);
  assert.equal(mesh.initialize(0), GodotError.ERR_INVALID_PARAMETER);
  assert.equal(mesh.initialize(7), GodotError.OK);
  assert.equal(mesh.getUniqueId(), 7);
  mesh.close();
});

test("three meshes over node-datachannel: full mesh via the packaged signaling, all transfer modes, signals", async () => {
  const server = await serveSignalingNode({ port: 0 });
  const clients = [];
  const recorded = [recordedMesh(), recordedMesh(), recordedMesh()];
  try {
    // Default WebSocket (ws on Node 20) and default peer connections (node-datachannel).
    clients.push(await joinLobby(server.url, "", { mesh: recorded[0].mesh }));
    for (const r of recorded.slice(1)) {
      clients.push(await joinLobby(server.url, clients[0].lobby, { mesh: r.mesh }));
    }
    const [host, b, c] = clients;
    const errors = [];
    for (const x of clients) {
      x.addEventListener("signaling_error", (e) => errors.push(x.id + ": " + e.detail.message));
    }
    diagnose = () => JSON.stringify({
      errors,
      signals: recorded.map((r) => r.signals),
      peers: clients.map((x) => [x.id, [...x.mesh.getPeers()].map(([id, p]) =>
        [id, p.connection.connectionState, p.channels.map((ch) => ch.readyState)])]),
    });
    assert.equal(host.id, 1);
    assert.equal(new Set(clients.map((x) => x.id)).size, 3);
    await until(
      () => clients.every((x) => [...x.mesh.getPeers().values()].filter((p) => p.connected).length === 2),
      "a full mesh",
    );
    await until(() => recorded.every((r) => r.signals.length >= (r === recorded[0] ? 2 : 3)), "signals");

    // Signals: the host announces both members; a member hears of the host first, then
    // connection_succeeded (server compatibility), then the other member.
    assert.deepEqual([...recorded[0].signals].sort(), ["peer_connected:" + b.id, "peer_connected:" + c.id].sort());
    for (const [i, other] of [[1, c], [2, b]]) {
      assert.deepEqual(recorded[i].signals, ["peer_connected:1", "connection_succeeded", "peer_connected:" + other.id]);
    }
    for (const x of clients) assert.equal(x.mesh.getConnectionStatus(), ConnectionStatus.CONNECTED);

    // Every mesh broadcasts one packet per transfer mode; every other mesh gets all of them.
    for (const x of clients) {
      for (const mode of MODES) {
        x.mesh.transferMode = mode;
        assert.equal(x.mesh.putPacket(new Uint8Array([x.id % 256, mode, 42])), GodotError.OK, x.mesh.lastError.message);
      }
    }
    await until(() => clients.every((x) => x.mesh.getAvailablePacketCount() === 6), "6 packets each");
    for (const x of clients) {
      const got = [];
      const iterator = x.mesh.packets();
      for (let i = 0; i < 6; i++) {
        const { value } = await iterator.next();
        got.push(value.peerId + "/" + value.channel + "/" + [...value.data].join(","));
      }
      await iterator.return();
      const want = clients.filter((o) => o !== x).flatMap((o) => MODES.map((m) => o.id + "/" + m + "/" + [o.id % 256, m, 42].join(",")));
      assert.deepEqual(got.sort(), want.sort());
    }

    // Godot style: a unicast read back with getPacketPeer/getPacket.
    b.mesh.transferMode = TransferMode.RELIABLE;
    b.mesh.targetPeer = c.id;
    assert.equal(b.mesh.putPacket(new TextEncoder().encode("only for c")), GodotError.OK);
    await until(() => c.mesh.getAvailablePacketCount() === 1, "the unicast");
    assert.equal(c.mesh.getPacketPeer(), b.id);
    assert.equal(new TextDecoder().decode(c.mesh.getPacket()), "only for c");
    assert.equal(host.mesh.getAvailablePacketCount(), 0);

    // A member leaves: the others see peer_disconnected for it.
    await c.close();
    await c.mesh.whenClosed();
    await until(() => recorded[0].signals.includes("peer_disconnected:" + c.id) &&
      recorded[1].signals.includes("peer_disconnected:" + c.id), "peer_disconnected");

    // The host leaves: the remaining member loses peer 1, then the server (server compatibility).
    await host.close();
    await host.mesh.whenClosed();
    await until(() => recorded[1].signals.includes("server_disconnected"), "server_disconnected");
    const tail = recorded[1].signals.slice(-2);
    assert.deepEqual(tail, ["peer_disconnected:1", "server_disconnected"]);
    assert.equal(b.mesh.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
    assert.deepEqual(recorded[2].signals.filter((s) => s.includes("disconnected")), []);
  } finally {
    for (const x of clients) {
      await x.close();
      await x.mesh.whenClosed();
    }
    await server.shutdown();
  }
});

test("connectPair and createPeerConnection from the node entry point", async () => {
  const a = new WebRTCMultiplayer();
  const b = new WebRTCMultiplayer();
  a.initialize(1);
  b.initialize(2);
  const pa = createPeerConnection();
  const pb = createPeerConnection();
  assert.equal(a.addPeer(pa, 2), GodotError.OK);
  assert.equal(b.addPeer(pb, 1), GodotError.OK);
  const connected = Promise.all([a, b].map((m) => new Promise((r) => m.addEventListener("peer_connected", r, { once: true }))));
  await connectPair(pa, pb);
  await connected;
  a.transferMode = TransferMode.RELIABLE;
  assert.equal(a.putPacket(new Uint8Array([9])), GodotError.OK);
  for await (const packet of b.packets()) {
    assert.deepEqual([packet.peerId, packet.channel, [...packet.data]], [1, TransferMode.RELIABLE, [9]]);
    break;
  }
  a.close();
  b.close();
  await Promise.all([a.whenClosed(), b.whenClosed()]);
});
`;

/**
 * The Node test run once `@roamhq/wrtc` is installed beside the package: the wrtc entry point,
 * and a mixed pair (libwebrtc ↔ libdatachannel) in one Node process, every transfer mode.
 */
export const CONSUMER_WRTC_TEST = `
import { test } from "node:test";
import assert from "node:assert/strict";
import { GodotError, TransferMode, WebRTCMultiplayer } from "${NPM_NAME}";
import { createPeerConnection as ndc } from "${NPM_NAME}/node";
import { connectPair, createPeerConnection as wrtc } from "${NPM_NAME}/wrtc";

for (const [name, first, second] of [["wrtc <-> wrtc", wrtc, wrtc], ["wrtc <-> ndc", wrtc, ndc]]) {
  test(name + ": a pair of meshes, every transfer mode both ways", async () => {
    const a = new WebRTCMultiplayer();
    const b = new WebRTCMultiplayer();
    a.initialize(1);
    b.initialize(2);
    const pa = first();
    const pb = second();
    assert.equal(a.addPeer(pa, 2), GodotError.OK);
    assert.equal(b.addPeer(pb, 1), GodotError.OK);
    const connected = Promise.all([a, b].map((m) => new Promise((r) => m.addEventListener("peer_connected", r, { once: true }))));
    await connectPair(pa, pb);
    await connected;
    for (const mode of [TransferMode.RELIABLE, TransferMode.UNRELIABLE_ORDERED, TransferMode.UNRELIABLE]) {
      for (const [from, to, id] of [[a, b, 1], [b, a, 2]]) {
        from.transferMode = mode;
        assert.equal(from.putPacket(new Uint8Array([id, mode])), GodotError.OK);
        const it = to.packets();
        const { value } = await it.next();
        await it.return();
        assert.deepEqual([value.peerId, value.channel, [...value.data]], [id, mode, [id, mode]]);
      }
    }
    a.close();
    b.close();
    await Promise.all([a.whenClosed(), b.whenClosed()]);
  });
}
`;

/** A TypeScript consumer of the public types; `@ts-expect-error` lines prove they are not `any`. */
export const CONSUMER_TS = `
import {
  ConnectionStatus,
  GodotError,
  type MeshOptions,
  type MeshStats,
  type Packet,
  type PeerInfo,
  type RTCPeerConnectionLike,
  TransferMode,
  WebRTCMultiplayer,
} from "${NPM_NAME}";
import { joinLobby, type JoinOptions, type LobbyClient, parseServerMessage } from "${NPM_NAME}/signaling";
import { type RunningSignalingServer, serveSignalingNode } from "${NPM_NAME}/signaling/node";
import { connectPair, createPeerConnection, type NodePeerConnection } from "${NPM_NAME}/node";
import { createPeerConnection as createBrowserPeerConnection } from "${NPM_NAME}/browser";

const options: MeshOptions = { autoPoll: false, maxQueuedPackets: 16 };
const mesh: WebRTCMultiplayer = new WebRTCMultiplayer(options);
const status: ConnectionStatus = mesh.getConnectionStatus();
const result: GodotError = mesh.initialize(1, true);
mesh.transferMode = TransferMode.UNRELIABLE_ORDERED;
const seen: unknown[] = [];
mesh.addEventListener("peer_connected", (event) => {
  const id: number = event.detail;
  const peer: PeerInfo | undefined = mesh.getPeer(id);
  seen.push([id, peer?.connected, status, result]);
});
const stats: MeshStats = mesh.stats();
const pc: NodePeerConnection = createPeerConnection({ iceServers: [] });
const w3c: RTCPeerConnectionLike = pc;
mesh.addPeer(w3c, 2);

export async function use(server: RunningSignalingServer): Promise<number> {
  const join: JoinOptions = { mesh, joinTimeoutMs: 1000 };
  const client: LobbyClient = await joinLobby(server.url, "", join);
  for await (const packet of client.mesh.packets()) {
    const p: Packet = packet;
    const bytes: Uint8Array = p.data;
    return bytes.length + p.peerId + p.channel + stats.queued;
  }
  await connectPair(pc, createPeerConnection());
  return 0;
}

export const started: Promise<RunningSignalingServer> = serveSignalingNode({ port: 0 });
export const browserFactory: typeof createBrowserPeerConnection = createBrowserPeerConnection;
export const parsed = parseServerMessage("I: 1\\n");

// @ts-expect-error transferMode is a TransferMode, not a string
mesh.transferMode = "reliable";
// @ts-expect-error putPacket takes bytes
mesh.putPacket("text");
// @ts-expect-error peer_connected carries a number
mesh.addEventListener("peer_connected", (event: CustomEvent<string>) => event);
`;

/**
 * A setup that never connects is given up after `setupTimeoutMs` and set up again; with a TURN
 * server configured the retry uses policy "relay" (`relayFallback`), without one it keeps "all";
 * after `setupAttempts` both sides are told and the connection is released. Fault injection: both
 * sides drop every remote candidate, so ICE has nothing to check and the setup hangs. The same
 * holds for Godot 4 clients (`joinLobbyGodot4`): the session layer both protocols share does it.
 */
import assert from "node:assert/strict";
import {
  createPeerConnection,
  type NodePeerConnection,
  type PeerConnectionConfig,
} from "../../adapters/node_datachannel.ts";
import { joinLobby, type JoinOptions, type LobbyClient } from "../../signaling/client.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { until } from "./_raw.ts";

/** Connections that never learn a remote candidate; records each one's configuration. */
function deaf() {
  const configs: PeerConnectionConfig[] = [];
  const made: NodePeerConnection[] = [];
  const factory = (config: PeerConnectionConfig) => {
    configs.push(config);
    // A real connection without servers (the recorded config is what the client asked for).
    const pc = createPeerConnection({});
    made.push(pc);
    const setRemote = pc.setRemoteDescription.bind(pc);
    pc.setRemoteDescription = (d) =>
      setRemote({ type: d.type, sdp: d.sdp.replace(/^a=candidate:.*\r?\n/gm, "") });
    pc.addIceCandidate = () => Promise.resolve();
    return pc;
  };
  return { configs, made, factory };
}

async function scenario(options: JoinOptions, godot4 = false) {
  const server = await serveSignalingDeno({ port: 0 });
  const a = deaf();
  const b = deaf();
  const clients: (LobbyClient | Godot4LobbyClient)[] = [];
  const join = godot4 ? joinLobbyGodot4 : joinLobby;
  const target = (c: LobbyClient | Godot4LobbyClient) => "mesh" in c ? c.mesh : c.peer;
  const errors: string[][] = [[], []];
  try {
    const common = { setupTimeoutMs: 1500, setupAttempts: 2, ...options };
    clients.push(await join(server.url, "", { ...common, createPeerConnection: a.factory }));
    clients.push(
      await join(server.url, clients[0].lobby, { ...common, createPeerConnection: b.factory }),
    );
    clients.forEach((c, i) =>
      c.addEventListener("signaling_error", (e) => errors[i].push(e.detail.message))
    );
    const started = Date.now();
    await until(
      () => errors.every((list) => list.some((m) => m.includes("giving up"))),
      10000,
      () => `both sides give up (${JSON.stringify(errors)})`,
    );
    const elapsed = Date.now() - started;
    for (const c of clients) {
      assert.equal(target(c).getPeers().size, 0, "the connection was released");
    }
    return { a, b, errors, elapsed };
  } finally {
    for (const c of clients) {
      await c.close();
      await target(c).whenClosed();
    }
    await server.shutdown();
  }
}

const TURN = { urls: "turn:127.0.0.1:9", username: "u", credential: "c" };

Deno.test("a setup that hangs is retried after setupTimeoutMs, through the relay when there is TURN", async () => {
  const r = await scenario({ iceServers: [{ urls: "stun:127.0.0.1:9" }, TURN] });
  assert.deepEqual(r.a.configs.map((c) => c.iceTransportPolicy), ["all", "relay"]);
  assert.deepEqual(r.b.configs.map((c) => c.iceTransportPolicy), ["all", "relay"]);
  assert.match(
    r.errors[0][0],
    /^connection to peer \d+ not connected 1500 ms into its setup; setting it up again$/,
  );
  assert.match(
    r.errors[0].at(-1)!,
    /failed 2 times \(last: not connected 1500 ms into its setup\); giving up$/,
  );
  assert.ok(r.elapsed < 2 * 1500 + 2000, `given up after ${r.elapsed} ms`);
});

Deno.test("without TURN, or with relayFallback false, retries keep the policy", async () => {
  const plain = await scenario({ iceServers: [{ urls: "stun:127.0.0.1:9" }] });
  assert.deepEqual(plain.a.configs.map((c) => c.iceTransportPolicy), ["all", "all"]);
  const off = await scenario({ iceServers: [TURN], relayFallback: false });
  assert.deepEqual(off.a.configs.map((c) => c.iceTransportPolicy), ["all", "all"]);
  const relay = await scenario({ iceServers: [TURN], iceTransportPolicy: "relay" });
  assert.deepEqual(relay.b.configs.map((c) => c.iceTransportPolicy), ["relay", "relay"]);
});

Deno.test("Godot 4 clients: the same ICE policy, setup timeout, relay fallback and give-up", async () => {
  const r = await scenario({ iceServers: [{ urls: "stun:127.0.0.1:9" }, TURN] }, true);
  assert.deepEqual(r.a.configs.map((c) => c.iceServers?.length), [2, 2]);
  assert.deepEqual(r.a.configs.map((c) => c.iceTransportPolicy), ["all", "relay"]);
  assert.deepEqual(r.b.configs.map((c) => c.iceTransportPolicy), ["all", "relay"]);
  // Godot 4: the higher id (b, the joiner) offers and sets the connection up again.
  assert.match(
    r.errors[1][0],
    /^connection to peer 1 not connected 1500 ms into its setup; setting it up again$/,
  );
  for (const list of r.errors) {
    assert.match(
      list.at(-1)!,
      /failed 2 times \(last: not connected 1500 ms into its setup\); giving up$/,
    );
  }
  assert.ok(r.elapsed < 2 * 1500 + 2000, `given up after ${r.elapsed} ms`);
  const relay = await scenario({ iceServers: [TURN], iceTransportPolicy: "relay" }, true);
  assert.deepEqual(relay.a.configs.map((c) => c.iceTransportPolicy), ["relay", "relay"]);
});

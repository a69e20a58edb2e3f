/**
 * A relay-only setup whose TURN server refuses the allocation gathers no candidate at all and can
 * never connect: the session counts it failed as soon as gathering completed, with a reason that
 * says so, instead of waiting `setupTimeoutMs`; the retries and the give-up are those of a timeout.
 * Real stacks: node-datachannel clients and coturn on loopback, asked with the wrong password (it
 * answers 401, as it answers 437 to libjuice's unreleased allocations, README "Reliability").
 * A TURN server that does not answer is, on libjuice, still only caught by the timeout.
 */
import assert from "node:assert/strict";
import { joinLobby, type JoinOptions, type LobbyClient } from "../../signaling/client.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { NO_RELAY_CANDIDATE } from "../../signaling/_setup_watch.ts";
import { startLoopbackTurn, type Turn } from "../network/_coturn.ts";
import { until } from "./_raw.ts";

/** Two clients with `options`; resolves once both gave up, with each side's errors and the time. */
async function pair(options: JoinOptions, godot4: boolean, deadlineMs: number) {
  const server = await serveSignalingDeno({ port: 0 });
  const join = godot4 ? joinLobbyGodot4 : joinLobby;
  const target = (c: LobbyClient | Godot4LobbyClient) => "mesh" in c ? c.mesh : c.peer;
  const clients: (LobbyClient | Godot4LobbyClient)[] = [];
  const errors: string[][] = [[], []];
  try {
    const started = Date.now();
    clients.push(await join(server.url, "", options));
    clients[0].addEventListener("signaling_error", (e) => errors[0].push(e.detail.message));
    clients.push(await join(server.url, clients[0].lobby, options));
    clients[1].addEventListener("signaling_error", (e) => errors[1].push(e.detail.message));
    await until(
      () => errors.every((list) => list.some((m) => m.includes("giving up"))),
      deadlineMs,
      () => `both sides give up (${JSON.stringify(errors)})`,
    );
    const elapsed = Date.now() - started;
    for (const c of clients) assert.equal(target(c).getPeers().size, 0, "released");
    return { errors, elapsed };
  } finally {
    for (const c of clients) {
      await c.close();
      await target(c).whenClosed();
    }
    await server.shutdown();
  }
}

async function withTurn(run: (turn: Turn) => Promise<void>): Promise<void> {
  const turn = await startLoopbackTurn(
    { kind: "static", username: "u", credential: "right" },
    // Below the ephemeral range (32768 up), where no other socket is given a port by chance: a
    // socket sharing coturn's port could take its packets, and a silent server is another test.
    20000 + Math.floor(Math.random() * 10000),
  );
  try {
    await run(turn);
  } finally {
    await turn.stop();
  }
}

const SETUP_MS = 8000;

for (const godot4 of [false, true]) {
  Deno.test(`${godot4 ? "Godot 4" : "Godot 3"}: relay-only, TURN refuses: each attempt fails at once with the reason, not after setupTimeoutMs`, async () => {
    await withTurn(async (turn) => {
      const r = await pair(
        {
          iceServers: [{ urls: turn.url, username: "u", credential: "wrong" }],
          iceTransportPolicy: "relay",
          setupTimeoutMs: SETUP_MS,
          setupAttempts: 2,
        },
        godot4,
        2 * SETUP_MS + 5000,
      );
      // Both attempts ended on both sides well before a single timeout would have.
      const allocations = turn.log().split("\n").filter((l) => /ALLOCATE|40\d/.test(l));
      assert.ok(
        r.elapsed < SETUP_MS,
        `both gave up after ${r.elapsed} ms: ${JSON.stringify(r.errors)}\n${
          allocations.join("\n")
        }`,
      );
      // The offering side (Godot 3: the lower id, the host; Godot 4: the higher id) retried once.
      const offerer = godot4 ? 1 : 0;
      assert.equal(
        r.errors[offerer][0].replace(/peer \d+/, "peer N"),
        `connection to peer N ${NO_RELAY_CANDIDATE}; setting it up again`,
      );
      for (const list of r.errors) {
        assert.equal(
          list.at(-1)!.replace(/peer \d+/, "peer N"),
          `connection to peer N failed 2 times (last: ${NO_RELAY_CANDIDATE}); giving up`,
        );
      }
      // The answering side counts the retry from the new offer, as with a timeout: it reports
      // nothing before it gives up.
      assert.equal(r.errors[1 - offerer].length, 1, JSON.stringify(r.errors));
    });
  });
}

Deno.test("relay-only with the right password connects (the same coturn and clients)", async () => {
  await withTurn(async (turn) => {
    const server = await serveSignalingDeno({ port: 0 });
    const options: JoinOptions = {
      iceServers: [{ urls: turn.url, username: "u", credential: "right" }],
      iceTransportPolicy: "relay",
      setupTimeoutMs: SETUP_MS,
    };
    const clients: LobbyClient[] = [];
    const errors: string[] = [];
    try {
      clients.push(await joinLobby(server.url, "", options));
      clients.push(await joinLobby(server.url, clients[0].lobby, options));
      for (const c of clients) {
        c.addEventListener("signaling_error", (e) => errors.push(e.detail.message));
      }
      await until(
        () => clients.every((c) => [...c.mesh.getPeers().values()].some((p) => p.connected)),
        SETUP_MS,
        () => `connected (${JSON.stringify(errors)})`,
      );
      // (The candidate type is not asserted: on loopback, where the relayed and the mapped
      // address are both 127.0.0.1, the stats called the local relay candidate srflx once in 6.)
      assert.deepEqual(errors, []);
    } finally {
      for (const c of clients) {
        await c.close();
        await c.mesh.whenClosed();
      }
      await server.shutdown();
    }
  });
});

Deno.test("relay-only, TURN server silent: libjuice never completes gathering, the timeout reports it", async () => {
  // A UDP port nobody listens on; nothing is refused, so only the timeout can tell.
  const r = await pair(
    {
      iceServers: [{ urls: "turn:127.0.0.1:9", username: "u", credential: "c" }],
      iceTransportPolicy: "relay",
      setupTimeoutMs: 1500,
      setupAttempts: 1,
    },
    false,
    10000,
  );
  assert.ok(r.elapsed >= 1500, `gave up after ${r.elapsed} ms`);
  for (const list of r.errors) {
    assert.match(list.at(-1)!, /failed 1 times \(last: not connected 1500 ms into its setup\)/);
  }
});

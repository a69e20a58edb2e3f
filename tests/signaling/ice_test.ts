/**
 * ICE configuration: malformed `iceServers` and policies are refused with ERR_INVALID_PARAMETER
 * before anything connects; flags and query parameters; time-limited TURN credentials match
 * coturn's scheme (HMAC-SHA1 over "<expiry>:<user>"); the Deno server hands them out; the selected
 * candidate pair is read from W3C stats.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { GodotError } from "../../core/constants.ts";
import { joinLobby, type WebSocketConstructor } from "../../signaling/client.ts";
import { joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import {
  checkIceConfig,
  fetchIceServers,
  IceConfigError,
  iceOptionsFromFlags,
  iceOptionsFromQuery,
  parseIceServer,
  restIceServers,
  turnRestCredentials,
} from "../../signaling/ice.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { selectedPairOf } from "../../effects/candidate_pair.ts";

const BAD: [string, unknown, unknown?][] = [
  ["missing urls", [{ username: "u", credential: "c" }]],
  ["empty urls", [{ urls: [] }]],
  ["bad scheme", [{ urls: "http://198.18.0.1:3478" }]],
  ["no host", [{ urls: "stun:" }]],
  ["TURN without credential", [{ urls: "turn:198.18.0.1:3478", username: "u" }]],
  ["TURN without username", [{ urls: "turn:198.18.0.1:3478", credential: "c" }]],
  ["not an array", { urls: "stun:198.18.0.1" }],
  ["null entry", [null]],
  ["bad policy", [{ urls: "stun:198.18.0.1" }], "none"],
  ["relay without TURN", [{ urls: "stun:198.18.0.1" }], "relay"],
];

Deno.test("malformed ICE configuration: ERR_INVALID_PARAMETER before any connection", async () => {
  let sockets = 0;
  const Counting = class {
    constructor() {
      sockets++;
      throw new Error("no socket should be opened");
    }
  } as unknown as WebSocketConstructor;
  let factories = 0;
  // Both protocols' clients: the check is in the session layer they share.
  for (
    const [[what, iceServers, policy], join] of BAD.flatMap((bad) =>
      [joinLobby, joinLobbyGodot4].map((join) => [bad, join] as const)
    )
  ) {
    const problem = checkIceConfig(iceServers, policy);
    assert.ok(problem, `${what} is refused`);
    await assert.rejects(
      join("ws://198.18.0.1:9", "", {
        // deno-lint-ignore no-explicit-any
        iceServers: iceServers as any,
        // deno-lint-ignore no-explicit-any
        iceTransportPolicy: policy as any,
        WebSocket: Counting,
        createPeerConnection: () => {
          factories++;
          throw new Error("no connection should be made");
        },
      }),
      (error: unknown) => {
        assert.ok(error instanceof IceConfigError, `${join.name}, ${what}: ${error}`);
        assert.equal(error.code, GodotError.ERR_INVALID_PARAMETER);
        assert.equal(error.message, problem);
        return true;
      },
    );
  }
  assert.equal(sockets, 0);
  assert.equal(factories, 0);
  assert.equal(
    checkIceConfig([{
      urls: ["stun:198.18.0.1:3478", "turn:[2001:db8::1]:3478?transport=udp"],
      username: "u",
      credential: "c",
    }], "relay"),
    undefined,
  );
});

Deno.test("flags and query parameters", async () => {
  assert.deepEqual(parseIceServer("turn:al%3Aice:p%40ss@198.18.0.1:3478"), {
    urls: "turn:198.18.0.1:3478",
    username: "al:ice",
    credential: "p@ss",
  });
  assert.throws(() => parseIceServer("turn:198.18.0.1"), IceConfigError);
  assert.throws(() => iceOptionsFromFlags({ stun: ["turn:u:p@h"] }), /--stun takes a stun: url/);
  assert.throws(() => iceOptionsFromFlags({ stun: ["stun:h"], relayOnly: true }), /needs a TURN/);
  assert.deepEqual(
    iceOptionsFromFlags({ stun: ["stun:h:1"], turn: ["turn:u:p@h:2"], relayOnly: true }),
    {
      iceServers: [{ urls: "stun:h:1" }, { urls: "turn:h:2", username: "u", credential: "p" }],
      iceTransportPolicy: "relay",
    },
  );
  assert.deepEqual(await iceOptionsFromQuery(new URLSearchParams("lobby=x"), "ws://h"), {});
  assert.deepEqual(
    await iceOptionsFromQuery(new URLSearchParams("stun=stun:h&turn=turn:u:p@h&relay=1"), "ws://h"),
    {
      iceServers: [{ urls: "stun:h" }, { urls: "turn:h", username: "u", credential: "p" }],
      iceTransportPolicy: "relay",
    },
  );
});

Deno.test("TURN REST credentials: coturn's use-auth-secret scheme, served at /ice-servers", async () => {
  const c = await turnRestCredentials({
    secret: "north",
    user: "alice",
    ttlSeconds: 600,
    now: 1_000_000,
  });
  assert.equal(c.username, "1600:alice");
  assert.equal(c.credential, createHmac("sha1", "north").update("1600:alice").digest("base64"));
  await assert.rejects(turnRestCredentials({ secret: "s", user: "a:b" }), IceConfigError);

  const provider = restIceServers({
    stun: ["stun:198.18.0.1:3478"],
    turn: ["turn:198.18.0.1:3478"],
    secret: "north",
    ttlSeconds: 60,
  });
  const server = await serveSignalingDeno({ port: 0, iceServers: provider });
  try {
    const before = Math.floor(Date.now() / 1000);
    const servers = await fetchIceServers(server.url);
    assert.equal(servers.length, 2);
    assert.deepEqual(servers[0], { urls: "stun:198.18.0.1:3478" });
    const [expiry, user] = servers[1].username!.split(":");
    assert.equal(user, "webrtc-mesh");
    assert.ok(Number(expiry) >= before + 60 && Number(expiry) <= before + 62);
    assert.equal(
      servers[1].credential,
      createHmac("sha1", "north").update(servers[1].username!).digest("base64"),
    );
  } finally {
    await server.shutdown();
  }
  const plain = await serveSignalingDeno({ port: 0 });
  try {
    await assert.rejects(fetchIceServers(plain.url), /426|404/);
  } finally {
    await plain.shutdown();
  }
});

Deno.test("the selected candidate pair from W3C stats (browser and node-datachannel shapes)", () => {
  // Chromium: the transport names the pair; candidates carry `address`.
  const chromium = new Map<string, unknown>([
    ["T1", { type: "transport", selectedCandidatePairId: "CP1" }],
    ["CP0", { type: "candidate-pair", localCandidateId: "L0", remoteCandidateId: "R0" }],
    ["CP1", { type: "candidate-pair", localCandidateId: "L1", remoteCandidateId: "R1" }],
    ["L0", { type: "local-candidate", candidateType: "host", address: "198.19.1.2", port: 1 }],
    ["L1", { type: "local-candidate", candidateType: "relay", address: "198.18.0.1", port: 50001 }],
    ["R1", { type: "remote-candidate", candidateType: "prflx", address: "198.18.0.13", port: 7 }],
  ]);
  assert.deepEqual(selectedPairOf(chromium), {
    local: { type: "relay", address: "198.18.0.1", port: 50001 },
    remote: { type: "prflx", address: "198.18.0.13", port: 7 },
  });
  // node-datachannel's polyfill: `ip` instead of `address`.
  const polyfill = new Map<string, unknown>([
    ["P", {
      type: "candidate-pair",
      localCandidateId: "L",
      remoteCandidateId: "R",
      state: "succeeded",
      nominated: true,
    }],
    ["L", { type: "local-candidate", candidateType: "srflx", ip: "198.18.0.11", port: 2 }],
    ["R", { type: "remote-candidate", candidateType: "srflx", ip: "198.18.0.12", port: 3 }],
  ]);
  assert.equal(selectedPairOf(polyfill)?.remote.address, "198.18.0.12");
  assert.equal(selectedPairOf(new Map()), undefined);
});

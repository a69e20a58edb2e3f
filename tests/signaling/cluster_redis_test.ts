/**
 * Three `deno task serve --redis` processes (two through the Deno server's entry, one with `--node`) sharing
 * lobbies through a real redis-server the test starts (tests/signaling/_redis.ts): a full WebRTC
 * mesh of clients spread over the three; hostile frames on one instance; an instance SIGKILLed
 * mid-lobby; Redis restarted mid-lobby; /healthz and /metrics.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import { joinLobby, type LobbyClient } from "../../signaling/client.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { STORE_UNAVAILABLE } from "../../signaling/cluster.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { type RedisProcess, startRedis } from "./_redis.ts";
import { type Instance, startInstance } from "./_instance.ts";
import { raw, until } from "./_raw.ts";

async function joined(url: string, lobby: string) {
  const c = raw(url);
  await c.opened;
  c.ws.send(`J: ${lobby}\n`);
  await until(() => c.frames.some((f) => f.startsWith("J: ")), 5000, `join at ${url}`);
  return { ...c, id: Number(c.frames[0].slice(3)), lobby: c.frames.at(-1)!.slice(3).trim() };
}

async function cluster(): Promise<{ redis: RedisProcess; instances: Instance[] }> {
  const redis = await startRedis();
  const instances = await Promise.all([
    startInstance(redis.url),
    startInstance(redis.url, ["--node"]),
    startInstance(redis.url),
  ]);
  return { redis, instances };
}

async function teardown(redis: RedisProcess, instances: Instance[]): Promise<void> {
  await Promise.all(instances.map((i) => i.stop()));
  await redis.stop();
}

const connected = (peers: Map<number, { connected: boolean }>) =>
  [...peers.values()].filter((p) => p.connected).length;

Deno.test("redis cluster: 6 Godot 3 and Godot 4 clients on 3 instances form a full WebRTC mesh; hostile frames stay on their instance", async () => {
  const { redis, instances } = await cluster();
  const g3: LobbyClient[] = [];
  const g4: Godot4LobbyClient[] = [];
  try {
    const options = { createPeerConnection };
    // A mixed mesh: the host (Godot 3) on instance 0, the others alternate protocol and instance.
    g3.push(await joinLobby(instances[0].url, "", options));
    const lobby = g3[0].lobby;
    for (let i = 1; i < 6; i++) {
      const url = instances[i % 3].url;
      if (i % 2 === 1) g4.push(await joinLobbyGodot4(url, lobby, options));
      else g3.push(await joinLobby(url, lobby, options));
    }
    const all = [...g3, ...g4];
    assertEquals(new Set(all.map((c) => c.id)).size, 6, "ids unique across instances");
    const meshed = () =>
      g3.every((c) => connected(c.mesh.getPeers()) === 5) &&
      g4.every((c) => connected(c.peer.getPeers()) === 5);
    await until(meshed, 20000, "full mesh of 6");
    for (const c of g3) assertEquals(c.mesh.putPacket(new Uint8Array([c.id % 256])), 0);
    for (const c of g4) assertEquals(c.peer.putPacket(new Uint8Array([c.id % 256])), 0);
    await until(
      () =>
        g3.every((c) => c.mesh.getAvailablePacketCount() === 5) &&
        g4.every((c) => c.peer.getAvailablePacketCount() === 5),
      5000,
      "packets",
    );

    // A raw observer on instance 1 and a hostile member on instance 2, both in the lobby.
    const observer = await joined(instances[1].url, lobby);
    const cases: [string, string][] = [
      ["O: 999\nspoof", Reasons.INVALID_DEST],
      ["X: 1\nnonsense", Reasons.INVALID_CMD],
      ["no newline", Reasons.INVALID_FORMAT],
      [`O: 1\n${"x".repeat(70000)}`, Reasons.MESSAGE_TOO_BIG],
      ["J: \n", Reasons.ALREADY_IN_LOBBY],
    ];
    const hostileIds: number[] = [];
    for (const [frame, reason] of cases) {
      const hostile = await joined(instances[2].url, lobby);
      hostileIds.push(hostile.id);
      hostile.ws.send(frame);
      assertEquals((await hostile.closed).reason, reason, frame.slice(0, 12));
    }
    // A flood: closed for its rate, never relayed.
    const flood = await joined(instances[2].url, lobby);
    hostileIds.push(flood.id);
    for (let i = 0; i < 1000 && flood.ws.readyState === WebSocket.OPEN; i++) {
      flood.ws.send(`O: ${observer.id}\nflood ${i}`);
    }
    const floodClose = await flood.closed;
    assertEquals(floodClose.reason, Reasons.TOO_MANY_MESSAGES);
    await until(() => observer.frames.includes(`D: ${flood.id}\n`), 5000, "flood's D:");
    // The observer heard of the hostile members coming and going, and of nothing they sent
    // (the flood's relays before it crossed its rate, 200 a second, are relays like any). The
    // mesh's clients offer to it, being real peers.
    const fromHostile = observer.frames.filter((f) =>
      /^[OAC]: /.test(f) && hostileIds.includes(Number(f.slice(3, f.indexOf("\n")))) &&
      !f.startsWith(`O: ${flood.id}\nflood `)
    );
    assertEquals(fromHostile, []);
    for (const id of hostileIds) assert(observer.frames.includes(`D: ${id}\n`), `D: ${id}`);
    // The mesh is untouched.
    assert(meshed(), "mesh intact");
    observer.ws.close();
  } finally {
    for (const c of [...g3, ...g4]) await c.close();
    await teardown(redis, instances);
  }
});

Deno.test("redis cluster: an instance SIGKILLed mid-lobby leaves no ghosts; /healthz and /metrics", async () => {
  const { redis, instances } = await cluster();
  try {
    // Lobby 1 hosted on instance 0, members on 1 and 2; lobby 2 hosted on 2, a member on 1.
    const host = await joined(instances[0].url, "");
    const m1 = await joined(instances[1].url, host.lobby);
    const m2 = await joined(instances[2].url, host.lobby);
    const host2 = await joined(instances[2].url, "");
    const m21 = await joined(instances[1].url, host2.lobby);
    const health = await fetch(`${instances[1].http}/healthz`);
    assertEquals(health.status, 200);
    assertEquals((await health.json()).status, "ok");
    const killedAt = Date.now();
    await instances[2].kill();
    // Its member leaves lobby 1 (D: to the others); lobby 2 lost its host: closed as Godot does.
    await until(
      () => host.frames.includes(`D: ${m2.id}\n`) && m1.frames.includes(`D: ${m2.id}\n`),
      8000,
      "D: of the killed instance's member",
    );
    assertEquals(await m21.closed, { code: 4000, reason: Reasons.HOST_DISCONNECTED });
    const took = Date.now() - killedAt;
    // Bound: the TTL (3 heartbeats of 1 s) plus one heartbeat of the survivors, plus slack.
    assert(took < 8000, `ghosts removed after ${took} ms`);
    console.log(`ghosts removed ${took} ms after the SIGKILL`);
    // Nothing else: lobby 1 still relays across instances 0 and 1.
    m1.ws.send("O: 1\nafter the kill");
    await until(() => host.frames.includes(`O: ${m1.id}\nafter the kill`));
    // A new member joins lobby 1 from instance 1.
    const m3 = await joined(instances[1].url, host.lobby);
    await until(() => host.frames.includes(`N: ${m3.id}\n`));
    // Metrics of instance 0 (the lobby's owner): its joins, relays, the lobby, the D: closes.
    const metrics = await (await fetch(`${instances[0].http}/metrics`)).text();
    assertMatch(metrics, /^signaling_lobbies 1$/m);
    assertMatch(metrics, /^signaling_joins_total [4-9]$/m);
    assertMatch(metrics, /^signaling_relays_total [1-9]/m);
    assertMatch(metrics, /^signaling_relay_latency_seconds_count [1-9]/m);
    assertMatch(metrics, /^signaling_redis_up 1$/m);
    assertMatch(metrics, /^signaling_closes_total\{reason="client closed"\} [1-9]/m);
    // Instance 1 piped its sockets to the owners (m1, m21, m3): no "client closed" for those.
    const metrics1 = await (await fetch(`${instances[1].http}/metrics`)).text();
    assertMatch(metrics1, /^signaling_piped_total 3$/m);
    assertMatch(metrics1, /^signaling_joins_total 0$/m);
    assert(!metrics1.includes('reason="client closed"'), metrics1);
    // The owners logged the death, one JSON object per line.
    await until(() =>
      instances[0].log.some((l) => String(l.message).includes("is gone (heartbeat expired)"))
    );
    for (const x of [host, m1, m3, host2]) x.ws.close();
  } finally {
    await teardown(redis, instances);
  }
});

Deno.test("redis cluster: Redis restarted mid-lobby: joins refused while it is away, then all works again", async () => {
  const { redis, instances } = await cluster();
  try {
    const host = await joined(instances[0].url, "");
    const m1 = await joined(instances[1].url, host.lobby);
    await redis.stop();
    await until(
      () =>
        instances.every((i) => i.log.some((l) => String(l.message).includes("redis unreachable"))),
      5000,
      "every instance logs the outage",
    );
    const health = await fetch(`${instances[2].http}/healthz`);
    assertEquals(health.status, 503);
    assertEquals((await health.json()).status, "redis unreachable");
    // Joining from another instance, or creating a lobby, is refused with a clear reason.
    for (const [url, lobby] of [[instances[2].url, host.lobby], [instances[1].url, ""]]) {
      const c = raw(url);
      await c.opened;
      c.ws.send(`J: ${lobby}\n`);
      assertEquals(await c.closed, { code: 4000, reason: STORE_UNAVAILABLE });
    }
    // The lobby's members are not dropped: nobody is judged dead for the outage.
    await redis.restart();
    await until(
      () =>
        instances.every((i) => i.log.some((l) => String(l.message).includes("reachable again"))),
      8000,
      "every instance reconnects",
    );
    assertEquals((await fetch(`${instances[2].http}/healthz`)).status, 200);
    // Relays cross instances again, and a member joins from the third instance.
    // (The first frames may race the subscriptions' own reconnection: pub/sub keeps no backlog.)
    for (let i = 0; i < 50 && !host.frames.includes(`O: ${m1.id}\nagain`); i++) {
      m1.ws.send("O: 1\nagain");
      await new Promise((r) => setTimeout(r, 100));
    }
    assert(host.frames.includes(`O: ${m1.id}\nagain`), "relay after the restart");
    const m2 = await joined(instances[2].url, host.lobby);
    await until(() => host.frames.includes(`N: ${m2.id}\n`) && m1.frames.includes(`N: ${m2.id}\n`));
    assert(!host.frames.some((f) => f.startsWith("D: ")), host.frames.join("|"));
    for (const x of [host, m1, m2]) x.ws.close();
  } finally {
    await teardown(redis, instances);
  }
});

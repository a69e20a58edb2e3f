/**
 * Instances sharing lobbies through the in-process broker (`MemoryHub`): the routing of
 * `cluster.ts` on real WebSocket servers (Deno and Node side by side), without Redis. The Redis
 * broker gets the same story, with processes and SIGKILL, in cluster_redis_test.ts.
 */
import { assert, assertEquals } from "@std/assert";
import { LOST_CLUSTER, MemoryHub } from "../../signaling/cluster.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { type RunningSignalingServer, SignalingServer } from "../../signaling/server.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { serveSignalingNode } from "../../signaling/server_node.ts";
import { raw, until } from "./_raw.ts";

async function threeInstances(hub: MemoryHub): Promise<RunningSignalingServer[]> {
  const options = (name: string) => ({ port: 0, broker: hub.broker(name), heartbeatMs: 250 });
  return [
    await serveSignalingDeno(options("a")),
    await serveSignalingNode(options("b")),
    await serveSignalingDeno(options("c")),
  ];
}

async function joined(url: string, lobby: string) {
  const c = raw(url);
  await c.opened;
  c.ws.send(`J: ${lobby}\n`);
  await until(() => c.frames.some((f) => f.startsWith("J: ")), 5000, `join at ${url}`);
  return { ...c, id: Number(c.frames[0].slice(3)) };
}

/** A lobby hosted on the first instance, with a member on each of the two others. */
async function lobbyOverThree(servers: RunningSignalingServer[]) {
  const host = await joined(servers[0].url, "");
  const lobby = host.frames[1].slice(3).trim();
  const b = await joined(servers[1].url, lobby);
  const c = await joined(servers[2].url, lobby);
  return { host, lobby, b, c };
}

Deno.test("memory cluster: one lobby over 3 instances, relays between them, a member leaving", async () => {
  const hub = new MemoryHub();
  const servers = await threeInstances(hub);
  try {
    const { host, lobby, b, c } = await lobbyOverThree(servers);
    assert(b.id !== c.id && b.id > 1 && c.id > 1);
    // The newest member hears of everyone before it; everyone hears of it.
    assertEquals(c.frames, [`I: ${c.id}\n`, "N: 1\n", `N: ${b.id}\n`, `J: ${lobby}\n`]);
    await until(() => b.frames.includes(`N: ${c.id}\n`));
    // Relays cross instances with the sender's id, payload byte for byte.
    b.ws.send(`O: ${c.id}\nv=0 from b`);
    c.ws.send("C: 1\n0\n0\ncandidate:1 1 udp 1 127.0.0.1 9 typ host");
    await until(() => c.frames.includes(`O: ${b.id}\nv=0 from b`));
    await until(() =>
      host.frames.includes(`C: ${c.id}\n0\n0\ncandidate:1 1 udp 1 127.0.0.1 9 typ host`)
    );
    // Only the owner holds the lobby; the others hold none.
    assertEquals(servers.map((s) => s.server.state.lobbies.size), [1, 0, 0]);
    c.ws.close();
    await until(() => b.frames.includes(`D: ${c.id}\n`) && host.frames.includes(`D: ${c.id}\n`));
    for (const x of [host, b]) x.ws.close();
    await Promise.all([host.closed, b.closed, c.closed]);
  } finally {
    for (const s of servers) await s.shutdown();
  }
});

Deno.test("memory cluster: an instance vanishing takes its members out of lobbies and closes its lobbies' members", async () => {
  const hub = new MemoryHub();
  const servers = await threeInstances(hub);
  try {
    const { host, b, c } = await lobbyOverThree(servers);
    // A second lobby, hosted on the instance that will vanish, with a member on instance a.
    const host2 = await joined(servers[2].url, "");
    const lobby2 = host2.frames[1].slice(3).trim();
    const a2 = await joined(servers[0].url, lobby2);
    hub.kill(servers[2].instance!);
    // Its member of lobby 1 leaves (D: to the others); lobby 2 lost its host: closed as Godot does.
    await until(() => host.frames.includes(`D: ${c.id}\n`) && b.frames.includes(`D: ${c.id}\n`));
    assertEquals(await a2.closed, { code: 4000, reason: Reasons.HOST_DISCONNECTED });
    // Nothing else is disturbed: lobby 1 still relays.
    b.ws.send("O: 1\nstill here");
    await until(() => host.frames.includes(`O: ${b.id}\nstill here`));
    for (const x of [host, b, c, host2]) x.ws.close();
  } finally {
    for (const s of servers) await s.shutdown();
  }
});

Deno.test("memory cluster: an instance that stalled past its heartbeat leaves the others' lobbies whole", async () => {
  const hub = new MemoryHub();
  const servers = await threeInstances(hub);
  try {
    const { host, lobby, b, c } = await lobbyOverThree(servers);
    // Past the grace period after start (4 heartbeats), instance b's heartbeat lapses (a stall):
    // whoever notices first, b's member leaves the lobby everywhere and b closes its socket;
    // nobody is left half in the lobby.
    await new Promise((r) => setTimeout(r, 1100));
    hub.expire(servers[1].instance!);
    assertEquals(await b.closed, { code: 1001, reason: LOST_CLUSTER });
    await until(() => host.frames.includes(`D: ${b.id}\n`) && c.frames.includes(`D: ${b.id}\n`));
    assertEquals(servers[0].server.state.lobbies.get(lobby)?.members.length, 2);
    // Instance b serves again: a new member joins through it.
    const b2 = await joined(servers[1].url, lobby);
    await until(() => host.frames.includes(`N: ${b2.id}\n`));
    for (const x of [host, c, b2]) x.ws.close();
  } finally {
    for (const s of servers) await s.shutdown();
  }
});

Deno.test("memory cluster: a Godot 4 client/server lobby over 3 instances, a Godot 3 client refused by it", async () => {
  const hub = new MemoryHub();
  const servers = await threeInstances(hub);
  const j = (type: number, id: number, data = "") => JSON.stringify({ type, id, data });
  const parse = (f: string) => JSON.parse(f) as { type: number; id: number; data: string };
  const json = async (url: string, frame: string, count: number) => {
    const c = raw(url);
    await c.opened;
    c.ws.send(frame);
    await until(() => c.frames.length >= count, 5000, () => `join: ${c.frames.join(" | ")}`);
    return { ...c, id: parse(c.frames[0]).id };
  };
  try {
    const server = await json(servers[0].url, j(0, 1), 2); // JOIN id 1: client/server
    const lobby = parse(server.frames[1]).data;
    const c1 = await json(servers[1].url, j(0, 0, lobby), 3);
    const c2 = await json(servers[2].url, j(0, 0, lobby), 3);
    // Clients hear of the server alone (ID data "": client/server), never of each other.
    assertEquals(c2.frames.map(parse), [
      { type: 1, id: c2.id, data: "" },
      { type: 2, id: 1, data: "" },
      { type: 0, id: 0, data: lobby },
    ]);
    await until(() => server.frames.map(parse).filter((m) => m.type === 2).length === 2);
    // A client's offer reaches the server across instances; a relay to another client closes it.
    c1.ws.send(j(4, 1, "v=0 c1"));
    await until(() => server.frames.includes(j(4, c1.id, "v=0 c1")));
    c2.ws.send(j(4, c1.id, "v=0 to c1"));
    assertEquals(await c2.closed, { code: 4000, reason: Reasons.INVALID_DEST });
    await until(() => server.frames.includes(j(3, c2.id)));
    assert(!c1.frames.some((f) => f.includes("to c1")));
    // A Godot 3 client, on another instance, is refused by this lobby.
    const g3 = raw(servers[2].url);
    await g3.opened;
    g3.ws.send(`J: ${lobby}\n`);
    assertEquals(await g3.closed, { code: 4000, reason: Reasons.CLIENT_SERVER_NEEDS_GODOT4 });
    for (const x of [server, c1]) x.ws.close();
  } finally {
    for (const s of servers) await s.shutdown();
  }
});

Deno.test("piped frames are rate-limited from their arrival at the first instance, not from a burst of backlog", () => {
  let now = 10_000;
  const server = new SignalingServer({ now: () => now, randomLobbyName: () => "L" });
  const closes: string[] = [];
  const socket = { send() {}, close: (_: number, reason: string) => void closes.push(reason) };
  const host = server.open(socket);
  host.message("J: \n");
  const member = server.open(socket);
  member.message("J: L\n");
  // 300 frames that arrived 10 ms apart over 3 s (100/s, under the 200/s limit) come in one burst.
  for (let i = 0; i < 300; i++) member.message("O: 1\nx", (299 - i) * 10);
  assertEquals(closes, []);
  // The same burst without ages is a flood.
  now += 10;
  for (let i = 0; i < 300; i++) member.message("O: 1\nx");
  assertEquals(closes, [Reasons.TOO_MANY_MESSAGES]);
  server.shutdown();
});

Deno.test("one instance, no Redis: /healthz on both servers; /metrics only when asked for", async () => {
  for (const serve of [serveSignalingDeno, serveSignalingNode]) {
    const plain = await serve({ port: 0 });
    const metered = await serve({ port: 0, metrics: true });
    try {
      const http = (s: RunningSignalingServer, path: string) =>
        fetch(`${s.url.replace(/^ws:/, "http:")}${path}`);
      const health = await http(plain, "/healthz");
      assertEquals(health.status, 200);
      assertEquals(await health.json(), { status: "ok", connections: 0, lobbies: 0 });
      const none = await http(plain, "/metrics");
      assertEquals(none.status, 426); // not served: a WebSocket is expected
      await none.body?.cancel();
      const host = await joined(metered.url, "");
      const metrics = await (await http(metered, "/metrics")).text();
      assert(/^signaling_joins_total 1$/m.test(metrics), metrics);
      assert(/^signaling_sockets 1$/m.test(metrics), metrics);
      assert(!metrics.includes("signaling_redis_up"), "no Redis, no redis_up");
      host.ws.close();
      await host.closed;
    } finally {
      await plain.shutdown();
      await metered.shutdown();
    }
  }
});

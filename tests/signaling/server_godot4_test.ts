/**
 * Both protocols on one port, on the Deno server and on the `ws` server: Godot 4 JSON clients,
 * a client/server lobby, a mixed lobby, and every close code on real sockets.
 */
import { assertEquals } from "@std/assert";
import { Reasons } from "../../signaling/protocol.ts";
import { GODOT4_FIRST_ID } from "../../signaling/lobby.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { serveSignalingNode } from "../../signaling/server_node.ts";
import type { RunningSignalingServer, ServeOptions } from "../../signaling/server.ts";
import { raw, until } from "./_raw.ts";

const j = (type: number, id: number, data = "") => JSON.stringify({ type, id, data });
const parse = (f: string) => JSON.parse(f) as { type: number; id: number; data: string };

type Raw = ReturnType<typeof raw>;

async function joined(c: Raw, frame: string, count: number): Promise<void> {
  await c.opened;
  c.ws.send(frame);
  await until(() => c.frames.length >= count, 3000, () => `join: ${c.frames.join(" | ")}`);
}

async function exercise(url: string): Promise<void> {
  const all: Raw[] = [];
  const open = () => {
    const c = raw(url);
    all.push(c);
    return c;
  };
  try {
    // A mixed mesh lobby: a Godot 3 host, a Godot 4 member, a Godot 3 member.
    const host = open();
    await joined(host, "J: \n", 2);
    const lobby = host.frames[1].slice(3, -1);
    const g4 = open();
    await joined(g4, j(0, 0, lobby), 3);
    const id4 = parse(g4.frames[0]).id;
    assertEquals(parse(g4.frames[0]).data, "true");
    assertEquals(id4 >= GODOT4_FIRST_ID, true);
    assertEquals(g4.frames.slice(1).map(parse), [
      { type: 2, id: 1, data: "" },
      { type: 0, id: 0, data: lobby },
    ]);
    const g3 = open();
    await joined(g3, `J: ${lobby}\n`, 4);
    const id3 = Number(g3.frames[0].slice(3, -1));
    assertEquals(id3 < GODOT4_FIRST_ID, true);
    await until(() => host.frames.length === 4 && g4.frames.length === 4, 3000, "announcements");
    assertEquals(parse(g4.frames[3]), { type: 2, id: id3, data: "" });
    g3.ws.send(`O: ${id4}\nv=0`);
    g4.ws.send(j(5, id3, "answer"));
    g4.ws.send(j(6, 1, "\n0\n0\ncandidate:x"));
    g4.ws.send(j(4, 1, "dropped offer"));
    g4.ws.send(j(6, 1, "\n1\n1\ncandidate:y"));
    await until(() => host.frames.length === 6 && g3.frames.length === 5, 3000, "relays");
    assertEquals(parse(g4.frames[4]), { type: 4, id: id3, data: "v=0" });
    assertEquals(g3.frames[4], `A: ${id4}\nanswer`);
    assertEquals(host.frames.slice(4), [
      `C: ${id4}\n0\n0\ncandidate:x`,
      `C: ${id4}\n1\n1\ncandidate:y`,
    ]);

    // A client/server lobby: a Godot 4 host, two Godot 4 clients, a refused Godot 3 client.
    const server = open();
    await joined(server, j(0, 1), 2);
    assertEquals(parse(server.frames[0]), { type: 1, id: 1, data: "" });
    const cs = parse(server.frames[1]).data;
    const c1 = open();
    const c2 = open();
    await joined(c1, j(0, 1, cs), 3);
    await joined(c2, j(0, 0, cs), 3);
    assertEquals(parse(c2.frames[0]).data, "", "client/server whatever the joiner's flag");
    assertEquals(c2.frames.slice(1).map(parse).map((f) => f.type), [2, 0]);
    await until(() => server.frames.length === 4, 3000, "host hears both");
    assertEquals(c1.frames.length, 3, "clients are not told of each other");
    const refused = open();
    await refused.opened;
    refused.ws.send(`J: ${cs}\n`);
    assertEquals(await refused.closed, { code: 4000, reason: Reasons.CLIENT_SERVER_NEEDS_GODOT4 });
    c1.ws.send(j(4, parse(c2.frames[0]).id, "x"));
    assertEquals(await c1.closed, { code: 4000, reason: Reasons.INVALID_DEST });

    // Close codes with JSON frames.
    const expect = async (frames: (string | Uint8Array)[], reason: string, code = 4000) => {
      const c = open();
      await c.opened;
      for (const f of frames) c.ws.send(f);
      assertEquals(await c.closed, { code, reason }, String(frames[0]).slice(0, 60));
    };
    await Promise.all([
      expect(["[1]"], Reasons.INVALID_FORMAT),
      expect(['{"type":0.5,"id":0,"data":""}'], Reasons.INVALID_FORMAT),
      expect([j(1, 0)], Reasons.INVALID_CMD),
      expect([j(7, 0)], Reasons.NEED_LOBBY),
      expect([j(4, 0)], Reasons.INVALID_DEST),
      expect([j(0, 0, "nope")], Reasons.LOBBY_DOES_NOT_EXISTS),
      expect([j(0, 0), j(0, 0)], Reasons.ALREADY_IN_LOBBY),
      expect([j(0, 0, lobby), j(7, 0)], Reasons.ONLY_HOST_CAN_SEAL),
      expect([new Uint8Array([123, 125])], Reasons.INVALID_TRANSFER_MODE),
      expect([j(0, 0), new Uint8Array(10)], Reasons.INVALID_TRANSFER_MODE),
      // 1 MiB JSON frame: over the rules' limit, within the transport's cap.
      expect([j(0, 0), j(4, 1, "x".repeat(1024 * 1024 - 30))], Reasons.MESSAGE_TOO_BIG),
      expect([], Reasons.NO_LOBBY),
    ]);
    // Seal: everyone in its protocol, then 1000 "Seal complete" (seal timeout 300 ms here).
    host.ws.send("S: \n");
    const [a, b] = await Promise.all([g4.closed, host.closed]);
    assertEquals(parse(g4.frames.at(-1)!), { type: 7, id: 0, data: "" });
    assertEquals(host.frames.at(-1), "S: \n");
    assertEquals([a, b], [1, 2].map(() => ({ code: 1000, reason: Reasons.SEAL_COMPLETE })));
    // The host leaving.
    server.ws.close();
    assertEquals(await c2.closed, { code: 4000, reason: Reasons.HOST_DISCONNECTED });
  } finally {
    for (const c of all) if (c.ws.readyState <= 1) c.ws.close();
    await Promise.all(all.map((c) => c.closed));
  }
}

const options: ServeOptions = { port: 0, limits: { joinTimeoutMs: 300, sealTimeoutMs: 300 } };
for (
  const [name, serve] of [["Deno", serveSignalingDeno], ["ws", serveSignalingNode]] as [
    string,
    (o: ServeOptions) => Promise<RunningSignalingServer>,
  ][]
) {
  Deno.test(`${name} server: both protocols on one port, every close code`, async () => {
    const server = await serve(options);
    try {
      await exercise(server.url);
    } finally {
      await server.shutdown();
    }
  });
}

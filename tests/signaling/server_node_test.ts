import { assertEquals } from "@std/assert";
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import { joinLobby, type LobbyClient } from "../../signaling/client.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { serveSignalingNode } from "../../signaling/server_node.ts";
import { raw, until } from "./_raw.ts";

const root = new URL("../../", import.meta.url).pathname;

/**
 * The protocol checks both `ws` runs share: join, relay, errors, host leaving; a Godot 4 (JSON)
 * member in the same lobby, translated both ways.
 */
async function exercise(url: string): Promise<void> {
  const host = raw(url);
  const member = raw(url);
  const json = raw(url);
  const bad = raw(url);
  const binary = raw(url);
  const idle = raw(url);
  try {
    await Promise.all([host.opened, member.opened, bad.opened, binary.opened]);
    host.ws.send("J: \n");
    await until(() => host.frames.length === 2, 3000, "host join");
    assertEquals(host.frames[0], "I: 1\n");
    const lobby = host.frames[1].slice(3, -1);
    member.ws.send(`J: ${lobby}\n`);
    await until(() => member.frames.length === 3, 3000, "member join");
    assertEquals(member.frames[1], "N: 1\n");
    const id = Number(member.frames[0].slice(3, -1));
    assertEquals(host.frames[2], `N: ${id}\n`);
    member.ws.send("C: 1\n0\n0\ncandidate:1 1 UDP 1 127.0.0.1 9 typ host");
    host.ws.send(`A: ${id}\nv=0\r\n`);
    await until(() => host.frames.length === 4 && member.frames.length === 4, 3000, "relays");
    assertEquals(host.frames[3], `C: ${id}\n0\n0\ncandidate:1 1 UDP 1 127.0.0.1 9 typ host`);
    assertEquals(member.frames[3], "A: 1\nv=0\r\n");
    await json.opened;
    json.ws.send(JSON.stringify({ type: 0, id: 0, data: lobby }));
    await until(() => json.frames.length === 4, 3000, "JSON join");
    const id4 = JSON.parse(json.frames[0]).id;
    assertEquals(JSON.parse(json.frames[0]).data, "true");
    host.ws.send(`C: ${id4}\n0\n0\ncandidate:x`);
    json.ws.send(JSON.stringify({ type: 5, id: 1, data: "answer" }));
    await until(() => json.frames.length === 5 && host.frames.length === 6, 3000, "translated");
    assertEquals(JSON.parse(json.frames[4]), { type: 6, id: 1, data: "\n0\n0\ncandidate:x" });
    assertEquals(host.frames.slice(4), [`N: ${id4}\n`, `A: ${id4}\nanswer`]);
    bad.ws.send("O: 99\nx");
    assertEquals(await bad.closed, { code: 4000, reason: Reasons.NEED_LOBBY });
    binary.ws.send(new Uint8Array([0]));
    assertEquals(await binary.closed, { code: 4000, reason: Reasons.INVALID_TRANSFER_MODE });
    assertEquals(await idle.closed, { code: 4000, reason: Reasons.NO_LOBBY });
    host.ws.close();
    assertEquals(await member.closed, { code: 4000, reason: Reasons.HOST_DISCONNECTED });
    assertEquals(await json.closed, { code: 4000, reason: Reasons.HOST_DISCONNECTED });
  } finally {
    const all = [host, member, json, bad, binary, idle];
    for (const c of all) if (c.ws.readyState <= 1) c.ws.close();
    await Promise.all(all.map((c) => c.closed));
  }
}

Deno.test("ws server under Deno: protocol and a 2-peer mesh through it", async () => {
  const server = await serveSignalingNode({ port: 0, limits: { joinTimeoutMs: 500 } });
  const clients: LobbyClient[] = [];
  try {
    await exercise(server.url);
    clients.push(await joinLobby(server.url, "", { createPeerConnection }));
    clients.push(await joinLobby(server.url, clients[0].lobby, { createPeerConnection }));
    await Promise.all(
      clients.map((c) => new Promise((r) => c.mesh.addEventListener("peer_connected", r))),
    );
  } finally {
    for (const c of clients) await c.close();
    await server.shutdown();
  }
});

Deno.test("ws server under real Node (esbuild bundle run by node)", async () => {
  const out = `${root}.test-results/signaling_node_server.mjs`;
  await Deno.mkdir(`${root}.test-results`, { recursive: true });
  const build = await new Deno.Command(`${root}node_modules/.bin/esbuild`, {
    args: [
      `${root}tests/signaling/_node_server_main.ts`,
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      "--external:ws",
      `--outfile=${out}`,
      "--log-level=warning",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));
  const node = new Deno.Command("node", {
    args: [out],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = node.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(node.stderr).text();
  try {
    const { value: first } = await lines.read();
    const url = (first ?? "").trim();
    assertEquals(url.startsWith("ws://127.0.0.1:"), true, `node printed ${first}`);
    await exercise(url);
  } finally {
    await node.stdin.close();
    let rest = "";
    while (true) {
      const { value, done } = await lines.read();
      if (done) break;
      rest += value;
    }
    const status = await node.status;
    assertEquals([status.code, rest.trim()], [0, "stopped"], await stderr);
  }
});

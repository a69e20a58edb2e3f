/**
 * A client whose network vanished (its TCP connection stays open, nothing comes back: no frame, no
 * pong) is dropped by both servers within `idleTimeoutMs` (default 8 s, at most 10 s): `D:` to the
 * others when a member goes silent, the lobby closed when the host does. The silent client is a
 * raw TCP socket that completes the WebSocket handshake, joins, and then never reads again.
 */
import { assert, assertEquals } from "@std/assert";
import { Reasons } from "../../signaling/protocol.ts";
import type { RunningSignalingServer } from "../../signaling/server.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { serveSignalingNode } from "../../signaling/server_node.ts";
import { raw, until } from "./_raw.ts";

const BOUND_MS = 10_000;
const encoder = new TextEncoder();

/** A masked client text frame (payload < 126 bytes). */
function textFrame(text: string): Uint8Array {
  const payload = encoder.encode(text);
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(6 + payload.length);
  frame.set([0x81, 0x80 | payload.length, ...mask]);
  payload.forEach((b, i) => frame[6 + i] = b ^ mask[i % 4]);
  return frame;
}

/**
 * Opens a WebSocket by hand, sends `J: <lobby>`, reads the server's first `frames` text frames, and
 * from then on never reads or answers again.
 */
async function silentClient(
  port: number,
  lobby: string,
  frames: number,
): Promise<{ conn: Deno.TcpConn; frames: string[] }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const buffer = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed during the handshake");
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  assert(head.startsWith("HTTP/1.1 101"), head);
  await conn.write(textFrame(`J: ${lobby}\n`));
  // Server frames are unmasked; these are short text frames: 0x81, length, payload.
  let bytes = new Uint8Array(0);
  const got: string[] = [];
  while (got.length < frames) {
    while (bytes.length >= 2 && bytes.length >= 2 + bytes[1] && got.length < frames) {
      got.push(new TextDecoder().decode(bytes.subarray(2, 2 + bytes[1])));
      bytes = bytes.slice(2 + bytes[1]);
    }
    if (got.length === frames) break;
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed while joining");
    bytes = new Uint8Array([...bytes, ...buffer.subarray(0, n)]);
  }
  return { conn, frames: got };
}

async function scenario(server: RunningSignalingServer, silentHost: boolean): Promise<number> {
  const host = silentHost ? undefined : raw(server.url);
  let lobby = "";
  let silent: { conn: Deno.TcpConn; frames: string[] } | undefined;
  const member = raw(server.url);
  try {
    if (host !== undefined) {
      await host.opened;
      host.ws.send("J: \n");
      await until(() => host.frames.length === 2, 3000, "host join");
      lobby = host.frames[1].slice(3, -1);
      silent = await silentClient(server.port, lobby, 3);
      await until(() => host.frames.length === 3, 3000, "silent member announced");
      const silentId = host.frames[2].slice(3, -1);
      const t0 = performance.now();
      await until(() => host.frames.length === 4, BOUND_MS + 2000, "D: of the silent member");
      assertEquals(host.frames[3], `D: ${silentId}\n`);
      return performance.now() - t0;
    }
    // A silent host: it creates the lobby, a member joins, then the host's network vanishes.
    silent = await silentClient(server.port, "", 2);
    const lobbyName = silent.frames[1].slice(3, -1);
    await member.opened;
    member.ws.send(`J: ${lobbyName}\n`);
    await until(() => member.frames.length === 3, 3000, "member join");
    const t0 = performance.now();
    const closed = await member.closed;
    const ms = performance.now() - t0;
    assertEquals(closed, { code: 4000, reason: Reasons.HOST_DISCONNECTED });
    return ms;
  } finally {
    silent?.conn.close();
    for (const c of [host, member]) if (c !== undefined && c.ws.readyState <= 1) c.ws.close();
    await Promise.all([host, member].map((c) => c?.closed));
  }
}

for (
  const [name, serve] of [["Deno", serveSignalingDeno], ["Node", serveSignalingNode]] as const
) {
  Deno.test(`${name} server drops a silent member and a silent host within ${BOUND_MS} ms`, async () => {
    const server = await serve({ port: 0 });
    try {
      const [member, host] = await Promise.all([scenario(server, false), scenario(server, true)]);
      console.log(
        `${name}: silent member dropped after ${member.toFixed(0)} ms, silent host after ${
          host.toFixed(0)
        } ms`,
      );
      assert(member < BOUND_MS, `member dropped after ${member.toFixed(0)} ms`);
      assert(host < BOUND_MS, `host dropped after ${host.toFixed(0)} ms`);
    } finally {
      await server.shutdown();
    }
  });
}

/**
 * The servers' own WebSocket framing (`signaling/_websocket.ts`) byte by byte, over raw TCP, through
 * each server's entry point (`serveSignalingNode`, `serveSignalingDeno`: the same `node:http`
 * server, `signaling/_http_node.ts`, here run by Deno). The handshake, fragments, pings, the close
 * handshake and every protocol error `ws` used to catch for the Node server (the same close codes).
 */
import { assert, assertEquals } from "@std/assert";
import { serveSignalingNode } from "../../signaling/server_node.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import type { RunningSignalingServer, ServeOptions } from "../../signaling/server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A client frame: masked unless `masked` is false; `first` is the first byte (FIN + opcode). */
function clientFrame(first: number, payload: Uint8Array, masked = true): Uint8Array {
  const size = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10;
  const out = new Uint8Array(size + (masked ? 4 : 0) + payload.length);
  out[0] = first;
  const view = new DataView(out.buffer);
  if (payload.length < 126) out[1] = payload.length;
  else if (payload.length < 65536) {
    out[1] = 126;
    view.setUint16(2, payload.length);
  } else {
    out[1] = 127;
    view.setUint32(6, payload.length);
  }
  if (!masked) {
    out.set(payload, size);
    return out;
  }
  out[1] |= 0x80;
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, size);
  payload.forEach((b, i) => out[size + 4 + i] = b ^ mask[i % 4]);
  return out;
}

const text = (s: string, fin = true) => clientFrame((fin ? 0x80 : 0) | 1, encoder.encode(s));

interface Frame {
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** A raw client: the handshake's answer, then the server's frames as they come. */
class RawClient {
  readonly conn: Deno.TcpConn;
  #bytes = new Uint8Array(0);
  #ended = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  static async open(
    port: number,
    headers = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    after: Uint8Array = new Uint8Array(0),
  ): Promise<[RawClient, string]> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const request = encoder.encode(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`);
    await conn.write(new Uint8Array([...request, ...after]));
    const client = new RawClient(conn);
    while (true) {
      const text = decoder.decode(client.#bytes);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        client.#bytes = client.#bytes.slice(end + 4);
        return [client, text.slice(0, end)];
      }
      if (!await client.#fill()) return [client, text];
    }
  }

  async #fill(): Promise<boolean> {
    const buffer = new Uint8Array(65536);
    const n = await this.conn.read(buffer).catch(() => null);
    if (n === null) {
      this.#ended = true;
      return false;
    }
    this.#bytes = new Uint8Array([...this.#bytes, ...buffer.subarray(0, n)]);
    return true;
  }

  /** The next frame, or undefined when the connection ended. */
  async frame(): Promise<Frame | undefined> {
    while (true) {
      const b = this.#bytes;
      if (b.length >= 2) {
        let length = b[1] & 0x7f;
        let start = 2;
        if (length === 126) [length, start] = [(b[2] << 8) | b[3], 4];
        if (length === 127) [length, start] = [new DataView(b.buffer).getUint32(6), 10];
        if (b.length >= start + length) {
          this.#bytes = b.slice(start + length);
          return { opcode: b[0] & 0x0f, payload: b.slice(start, start + length) };
        }
      }
      if (this.#ended || !await this.#fill()) return undefined;
    }
  }

  /** The next text frame's text (keep-alive pings skipped: asserts the next other frame is text). */
  async text(): Promise<string> {
    let f = await this.frame();
    while (f?.opcode === 9) f = await this.frame();
    assertEquals(f?.opcode, 1, "a text frame");
    return decoder.decode(f!.payload);
  }

  /** Reads the close frame (its code and reason) and answers it, as a browser does. */
  async closed(): Promise<{ code: number; reason: string }> {
    let f = await this.frame();
    while (f !== undefined && f.opcode !== 8) f = await this.frame();
    assert(f !== undefined, "a close frame");
    const code = (f.payload[0] << 8) | f.payload[1];
    await this.send(clientFrame(0x88, f.payload.slice(0, 2))).catch(() => 0);
    return { code, reason: decoder.decode(f.payload.subarray(2)) };
  }

  send(bytes: Uint8Array): Promise<number> {
    return this.conn.write(bytes);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed
    }
  }
}

const servers: [string, (options: ServeOptions) => Promise<RunningSignalingServer>][] = [
  ["Node", serveSignalingNode],
  ["Deno", serveSignalingDeno],
];

for (const [name, serve] of servers) {
  Deno.test(`${name} server framing: handshake, fragments, ping, close, protocol errors`, async () => {
    const server = await serve({ port: 0, limits: { maxFrameBytes: 70000 } });
    const clients: RawClient[] = [];
    const open = async (headers?: string, after?: Uint8Array) => {
      const [client, head] = await RawClient.open(server.port, headers, after);
      clients.push(client);
      return [client, head] as const;
    };
    try {
      // The handshake (RFC 6455's sample key), with the first frame in the same packet as the request.
      const [host, head] = await open(undefined, text("J: \n"));
      assert(head.startsWith("HTTP/1.1 101"), head);
      assert(head.includes("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), head);
      assertEquals(await host.text(), "I: 1\n");
      const lobby = (await host.text()).slice(3, -1);

      // A join in three fragments, with a ping between them; the pong echoes the ping's payload.
      const [member] = await open();
      const join = `J: ${lobby}\n`;
      await member.send(text(join.slice(0, 2), false));
      await member.send(clientFrame(0x89, encoder.encode("hi")));
      await member.send(clientFrame(0x00, encoder.encode(join.slice(2, 5))));
      await member.send(clientFrame(0x80, encoder.encode(join.slice(5))));
      assertEquals(await member.frame(), { opcode: 0xa, payload: encoder.encode("hi") });
      const id = Number((await member.text()).slice(3, -1));
      assertEquals(await member.text(), "N: 1\n");
      assertEquals(await member.text(), `J: ${lobby}\n`);
      assertEquals(await host.text(), `N: ${id}\n`);

      // Relays unchanged, both ways of sending (all ASCII as Latin-1 text; else UTF-8 bytes) with
      // each length form: 7 bits, 16 bits (126..65535), 64 bits.
      for (const payload of ["a=x", "é€😀", "v=0\r\n".repeat(60), "é€😀".repeat(40)]) {
        await member.send(text(`C: 1\n${payload}`));
        assertEquals(await host.text(), `C: ${id}\n${payload}`);
      }
      for (const payload of ["x".repeat(66000), "é".repeat(33000)]) {
        await host.send(text(`O: ${id}\n${payload}`));
        assertEquals(await member.text(), `O: 1\n${payload}`);
      }

      // The client closes: the server answers with the same code and ends; the host learns it left.
      await member.send(clientFrame(0x88, new Uint8Array([0x0f, 0xa0, ...encoder.encode("bye")])));
      assertEquals((await member.closed()).code, 4000);
      assertEquals(await member.frame(), undefined);
      assertEquals(await host.text(), `D: ${id}\n`);

      // Protocol errors, each on a socket of its own: the close code `ws` gave.
      const cases: [string, Uint8Array, number][] = [
        ["unmasked", clientFrame(0x81, encoder.encode("J: \n"), false), 1002],
        ["reserved bit", clientFrame(0xc1, encoder.encode("J: \n")), 1002],
        ["unknown opcode", clientFrame(0x83, encoder.encode("x")), 1002],
        ["continuation first", clientFrame(0x80, encoder.encode("x")), 1002],
        ["fragmented ping", clientFrame(0x09, new Uint8Array(0)), 1002],
        ["long ping", clientFrame(0x89, new Uint8Array(126)), 1002],
        ["bad UTF-8", clientFrame(0x81, new Uint8Array([0x4a, 0x3a, 0x20, 0xc3, 0x28])), 1007],
        ["over the transport cap", clientFrame(0x81, new Uint8Array(1024 * 1024 + 1)), 1009],
        ["bad close code", clientFrame(0x88, new Uint8Array([0x03, 0xed])), 1002],
        ["binary", clientFrame(0x82, new Uint8Array([1])), 4000],
        ["over maxFrameBytes", text(`J: ${"x".repeat(70001)}\n`), 4000],
      ];
      for (const [what, bytes, code] of cases) {
        const [c] = await open();
        await c.send(bytes).catch(() => 0);
        assertEquals((await c.closed()).code, code, what);
        assertEquals(await c.frame(), undefined, `${what}: the connection ends`);
      }

      // A frame trickling in byte by byte (header included) arrives whole.
      const [member2] = await open(undefined, text(`J: ${lobby}\n`));
      const id2 = Number((await member2.text()).slice(3, -1));
      assertEquals(await host.text(), `N: ${id2}\n`);
      const trickled = text(`C: 1\n${"t".repeat(130)}`);
      for (const byte of trickled) {
        await member2.send(new Uint8Array([byte]));
        await new Promise((r) => setTimeout(r, 1));
      }
      assertEquals(await host.text(), `C: ${id2}\n${"t".repeat(130)}`);

      // Empty fragments are fine; a message in more than 1,024 fragments is refused (1008).
      const [empty] = await open();
      await empty.send(text("J: ", false));
      for (let i = 0; i < 3; i++) await empty.send(clientFrame(0x00, new Uint8Array(0)));
      await empty.send(clientFrame(0x80, encoder.encode("\n")));
      assertEquals(await empty.text(), "I: 1\n");
      const [shredded] = await open();
      const many = [text("J", false)];
      for (let i = 0; i < 1024; i++) many.push(clientFrame(0x00, encoder.encode(" ")));
      await shredded.send(new Uint8Array(many.flatMap((f) => [...f])));
      assertEquals((await shredded.closed()).code, 1008);

      // A text message split across fragments must not start another one in between.
      const [mixed] = await open();
      await mixed.send(text("J:", false));
      await mixed.send(text(" \n"));
      assertEquals((await mixed.closed()).code, 1002);

      // Bad handshakes get 400 and no WebSocket.
      for (
        const headers of [
          "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
          "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Key: short\r\n",
        ]
      ) {
        const [, answer] = await open(headers);
        assert(answer.startsWith("HTTP/1.1 400"), answer);
      }

      // A subprotocol offered is accepted (the first one), as `ws` did.
      const [, withProtocol] = await open(
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: a, b\r\n",
      );
      assert(
        withProtocol.includes("Sec-WebSocket-Protocol: a\r\n") || withProtocol.endsWith(": a"),
      );

      // The server closes (host leaves by rule): close frame first, then the TCP connection ends.
      await host.send(text("S: \n"));
      assertEquals(await host.text(), "S: \n");
    } finally {
      for (const c of clients) c.close();
      await server.shutdown();
    }
  });
}

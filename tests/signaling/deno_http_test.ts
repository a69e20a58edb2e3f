/**
 * The Deno server's HTTP over raw TCP (`node:http` through Deno's Node compatibility, with the
 * project's own framing: `signaling/_http_node.ts`): the upgrade with frames right behind it and
 * split across reads, a bad upgrade (400), plain requests (426), the shared routes and the static
 * files with their lengths, HEAD, a request split across reads, a malformed request (400), and
 * shutdown. The WebSocket framing itself is `websocket_framing_test.ts`,
 * run on both servers.
 */
import { assert, assertEquals } from "@std/assert";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";

const encoder = new TextEncoder();
const UPGRADE = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

/** A masked client text frame. */
function textFrame(text: string): Uint8Array {
  const payload = encoder.encode(text);
  assert(payload.length < 126);
  const mask = crypto.getRandomValues(new Uint8Array(4));
  return new Uint8Array([
    0x81,
    0x80 | payload.length,
    ...mask,
    ...payload.map((b, i) => b ^ mask[i % 4]),
  ]);
}

/**
 * Writes `parts` one after the other (a pause between them: separate reads), then reads to the
 * end (or until `until`), one char per byte.
 */
async function exchange(
  port: number,
  parts: (string | Uint8Array)[],
  until?: string,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (const [i, part] of parts.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, 30));
      await conn.write(typeof part === "string" ? encoder.encode(part) : part);
    }
    let text = "";
    const buf = new Uint8Array(65536);
    while (until === undefined || !text.includes(until)) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += String.fromCharCode(...buf.subarray(0, n)); // one char per byte
    }
    return text;
  } finally {
    conn.close();
  }
}

/** An HTTP answer: its status line, its headers (names lower-cased), its body. */
function parsed(text: string): { status: string; headers: Map<string, string>; body: string } {
  const end = text.indexOf("\r\n\r\n");
  assert(end >= 0, `a whole head: ${text}`);
  const [status, ...lines] = text.slice(0, end).split("\r\n");
  const headers = new Map(lines.map((l) => {
    const colon = l.indexOf(":");
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()] as [string, string];
  }));
  return { status, headers, body: text.slice(end + 4) };
}

/** A plain request that asks the server to close the connection after its answer. */
const plainRequest = (method: string, path: string) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

Deno.test("Deno server HTTP: upgrades, plain requests, static files, HEAD, split and pipelined bytes", async () => {
  const web = await Deno.makeTempDir();
  await Deno.writeTextFile(`${web}/index.html`, "<h1>demo</h1>");
  const server = await serveSignalingDeno({ port: 0, staticDir: web });
  const plain = await serveSignalingDeno({ port: 0 });
  try {
    // The upgrade, with a frame (a join) right behind the request in the same write.
    const joined = await exchange(server.port, [
      new Uint8Array([...encoder.encode(UPGRADE), ...textFrame("J: \n")]),
    ], "I: 1\n");
    assert(joined.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), joined);
    assert(joined.includes("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), joined);
    // The join's first answer is the first frame after the handshake's answer.
    assert(joined.includes("\r\n\r\n\x81\x05I: 1\n"), JSON.stringify(joined));

    // The upgrade request split across reads (in the middle of a line, of the closing CRLFs),
    // then its first frame split in two.
    const frame = textFrame("J: \n");
    const split = await exchange(
      server.port,
      [
        UPGRADE.slice(0, 20),
        UPGRADE.slice(20, -3),
        UPGRADE.slice(-3),
        frame.slice(0, 3),
        frame.slice(3),
      ],
      "I: 1\n",
    );
    assert(split.startsWith("HTTP/1.1 101"), split);
    assert(split.includes("\r\n\r\n\x81\x05I: 1\n"), JSON.stringify(split));

    // A bad upgrade (version 8) gets 400 and the connection ends.
    const bad = await exchange(server.port, [UPGRADE.replace("Version: 13", "Version: 8")]);
    assert(bad.startsWith("HTTP/1.1 400 Bad Request\r\n"), bad);

    // Plain requests: the shared routes, the static files (GET and HEAD, each with its length),
    // else 426.
    const health = parsed(await exchange(plain.port, [plainRequest("GET", "/healthz")]));
    assertEquals(health.status, "HTTP/1.1 200 OK");
    assert(health.body.startsWith('{"status":"ok"'), health.body);
    assertEquals(health.headers.get("content-length"), String(encoder.encode(health.body).length));
    const healthHead = parsed(await exchange(plain.port, [plainRequest("HEAD", "/healthz")]));
    assertEquals(healthHead.status, "HTTP/1.1 200 OK");
    assertEquals(healthHead.headers.get("content-length"), health.headers.get("content-length"));
    assertEquals(healthHead.body, "");
    const upgradeRequired = parsed(await exchange(plain.port, [plainRequest("GET", "/")]));
    assertEquals(upgradeRequired.status, "HTTP/1.1 426 Upgrade Required");
    assertEquals(upgradeRequired.headers.get("upgrade"), "websocket");
    assertEquals(upgradeRequired.body, "WebRTC signaling server: connect with a WebSocket.\n");

    const page = parsed(await exchange(server.port, [plainRequest("GET", "/")]));
    assertEquals(page.status, "HTTP/1.1 200 OK");
    assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
    assertEquals(page.headers.get("content-length"), "13");
    assertEquals(page.body, "<h1>demo</h1>");
    const pageHead = parsed(await exchange(server.port, [plainRequest("HEAD", "/index.html")]));
    assertEquals(pageHead.status, "HTTP/1.1 200 OK");
    assertEquals(pageHead.headers.get("content-length"), "13");
    assertEquals(pageHead.body, "");
    const missing = parsed(await exchange(server.port, [plainRequest("GET", "/nothing.js")]));
    assertEquals(missing.status, "HTTP/1.1 404 Not Found");

    // A plain request split across reads.
    const request = plainRequest("GET", "/");
    const slow = parsed(
      await exchange(server.port, [
        request.slice(0, 2),
        request.slice(2, 20),
        request.slice(20, -1),
        "\n",
      ]),
    );
    assertEquals([slow.status, slow.body], ["HTTP/1.1 200 OK", "<h1>demo</h1>"]);

    // A malformed request gets 400.
    const malformed = await exchange(server.port, ["NOT HTTP\r\n\r\n"]);
    assert(malformed.startsWith("HTTP/1.1 400 "), malformed);

    // Through a real client: fetch gets the page, a WebSocket opens and joins.
    assertEquals(await (await fetch(server.httpUrl!)).text(), "<h1>demo</h1>");
    const ws = new WebSocket(server.url);
    const first = await new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send("J: \n");
      ws.onmessage = (e) => resolve(e.data);
      ws.onerror = () => reject(new Error("WebSocket error"));
    });
    assertEquals(first, "I: 1\n");
    const closed = new Promise<CloseEvent>((r) => ws.onclose = r);
    // Shutdown closes it with 1001 and no socket outlives the server.
    await server.shutdown();
    assertEquals((await closed).code, 1001);
    await server.finished;
  } finally {
    await server.shutdown();
    await plain.shutdown();
    await Deno.remove(web, { recursive: true });
  }
});

Deno.test("Deno server HTTP: shutdown cuts a connection that never finished its request", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n"));
  await new Promise((r) => setTimeout(r, 30));
  await server.shutdown();
  await server.finished;
  assertEquals(await conn.read(new Uint8Array(16)).catch(() => null), null);
  conn.close();
});

/**
 * The Deno server's own HTTP/1.1 (`signaling/_conn_deno.ts`) over raw TCP: the upgrade, bad
 * upgrades (400) and plain requests (426), the shared routes and static files, HEAD, a request
 * split across reads, frames right behind the upgrade request, malformed and oversized heads, and
 * shutdown. The WebSocket framing itself is `websocket_framing_test.ts`, run on both servers.
 */
import { assert, assertEquals } from "@std/assert";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { MAX_HEAD_BYTES, parseHead } from "../../signaling/_conn_deno.ts";

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
 * Writes `parts` one after the other (a pause between them: separate reads), ends its side if
 * `until` is "end", then reads to the end (or until `until`), one char per byte.
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
    if (until === "end") {
      await conn.closeWrite();
      until = undefined;
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

Deno.test("Deno transport: parseHead takes request lines and headers, refuses malformed heads", () => {
  assertEquals(parseHead("GET /a?b HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a:  2 "), {
    method: "GET",
    target: "/a?b",
    headers: { host: "x", "x-a": "1, 2" },
  });
  for (
    const bad of [
      "GET /",
      "GET / HTTP/2.0",
      "GET  / HTTP/1.1",
      "G(T / HTTP/1.1",
      "GET / HTTP/1.1\r\nno colon",
      "GET / HTTP/1.1\r\n: empty name",
      "GET / HTTP/1.1\r\nbad name: x",
    ]
  ) {
    assertEquals(parseHead(bad), undefined, bad);
  }
});

Deno.test("Deno transport: upgrades, plain requests, static files, HEAD, split and pipelined bytes", async () => {
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

    // Plain requests: the shared routes, the static files (GET and HEAD), else 426; each answer
    // has its length and closes the connection.
    const health = await exchange(plain.port, ["GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"]);
    assert(health.startsWith("HTTP/1.1 200 OK\r\n"), health);
    const healthBody = health.slice(health.indexOf("\r\n\r\n") + 4);
    assert(health.includes(`content-length: ${encoder.encode(healthBody).length}\r\n`), health);
    assert(health.includes("connection: close\r\n"), health);
    const healthHead = await exchange(plain.port, ["HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"]);
    assert(healthHead.startsWith("HTTP/1.1 200 OK\r\n"), healthHead);
    assert(
      healthHead.includes(`content-length: ${encoder.encode(healthBody).length}\r\n`),
      healthHead,
    );
    assert(healthHead.endsWith("\r\n\r\n"), `no body: ${healthHead}`);
    const upgradeRequired = await exchange(plain.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    assert(upgradeRequired.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), upgradeRequired);
    assert(upgradeRequired.includes("upgrade: websocket\r\n"), upgradeRequired);
    assert(upgradeRequired.endsWith("connect with a WebSocket.\n"), upgradeRequired);

    const page = await exchange(server.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    assert(page.startsWith("HTTP/1.1 200 OK\r\n"), page);
    assert(page.includes("content-type: text/html; charset=utf-8\r\n"), page);
    assert(page.includes("content-length: 13\r\n"), page);
    assert(page.endsWith("\r\n\r\n<h1>demo</h1>"), page);
    const pageHead = await exchange(server.port, ["HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n"]);
    assert(
      pageHead.startsWith("HTTP/1.1 200 OK\r\n") && pageHead.includes("content-length: 13\r\n"),
      pageHead,
    );
    assert(pageHead.endsWith("\r\n\r\n"), `no body: ${pageHead}`);
    const missing = await exchange(server.port, ["GET /nothing.js HTTP/1.1\r\nHost: x\r\n\r\n"]);
    assert(missing.startsWith("HTTP/1.1 404 Not Found\r\n"), missing);

    // A client that ends its side right after its request still gets the whole answer.
    const answerText = await exchange(server.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"], "end");
    assert(answerText.startsWith("HTTP/1.1 200 OK\r\n"), answerText);
    assert(answerText.endsWith("<h1>demo</h1>"), answerText);

    // A plain request split across reads.
    const slow = await exchange(server.port, ["GE", "T / HTTP/1.1\r\nHo", "st: x\r\n\r", "\n"]);
    assert(slow.startsWith("HTTP/1.1 200 OK\r\n") && slow.endsWith("<h1>demo</h1>"), slow);

    // Malformed heads get 400, an oversized one 431.
    for (
      const head of [
        "NOT HTTP\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n",
        "GET nopath HTTP/1.1\r\n\r\n",
      ]
    ) {
      const answer = await exchange(server.port, [head]);
      assert(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), `${head}: ${answer}`);
    }
    const huge = await exchange(server.port, [
      `GET / HTTP/1.1\r\nX-Big: ${"x".repeat(MAX_HEAD_BYTES)}\r\n`,
    ]);
    assert(huge.startsWith("HTTP/1.1 431 "), huge);

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

Deno.test("Deno transport: shutdown cuts a connection that never finished its request", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n"));
  await new Promise((r) => setTimeout(r, 30));
  await server.shutdown();
  await server.finished;
  assertEquals(await conn.read(new Uint8Array(16)).catch(() => null), null);
  conn.close();
});

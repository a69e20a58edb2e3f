import { assert, assertEquals } from "@std/assert";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { safeRelativePath } from "../../signaling/_static.ts";

/** Sends one raw HTTP/1.1 request (no URL normalization) and returns the status line. */
async function rawStatus(port: number, target: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buf = new Uint8Array(4096);
    while (!text.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text.split("\r\n")[0];
  } finally {
    conn.close();
  }
}

Deno.test("static: safeRelativePath refuses traversal, dot-files and odd bytes", () => {
  assertEquals(safeRelativePath("/"), "index.html");
  assertEquals(safeRelativePath("/dist/"), "dist/index.html");
  assertEquals(safeRelativePath("/dist/app.js"), "dist/app.js");
  for (
    const bad of [
      "/../x",
      "/a/../../x",
      "/%2e%2e/x",
      "/a/%2E%2E/%2e%2e/x",
      "/.git/config",
      "/a//b",
      "/a\\..\\b",
      "/a%5c..%5cb",
      "/a%00b",
      "/%E0%A4%A",
      "relative",
    ]
  ) {
    assertEquals(safeRelativePath(bad), undefined, bad);
  }
});

Deno.test("static: the server serves the folder's files beside signaling, and nothing else", async () => {
  const base = await Deno.makeTempDir();
  const web = `${base}/web`;
  await Deno.mkdir(`${web}/dist`, { recursive: true });
  await Deno.writeTextFile(`${web}/index.html`, "<h1>demo</h1>");
  await Deno.writeTextFile(`${web}/style.css`, "body{}");
  await Deno.writeTextFile(`${web}/dist/app.js`, "export {};");
  await Deno.writeTextFile(`${web}/.secret`, "hidden");
  await Deno.writeTextFile(`${base}/outside.txt`, "outside");
  await Deno.symlink(`${base}/outside.txt`, `${web}/link.txt`);
  const server = await serveSignalingDeno({ port: 0, staticDir: web });
  try {
    assertEquals(server.httpUrl, `http://127.0.0.1:${server.port}/`);
    const get = async (path: string, init?: RequestInit) => {
      const r = await fetch(new URL(path, server.httpUrl), init);
      return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
    };
    assertEquals(await get("/"), {
      status: 200,
      type: "text/html; charset=utf-8",
      body: "<h1>demo</h1>",
    });
    assertEquals((await get("/style.css")).type, "text/css; charset=utf-8");
    assertEquals((await get("/dist/app.js")).type, "text/javascript; charset=utf-8");
    assertEquals((await get("/missing.js")).status, 404);
    assertEquals((await get("/dist")).status, 404); // a folder, not a file
    assertEquals((await get("/.secret")).status, 404);
    assertEquals((await get("/link.txt")).status, 404); // symbolic link out of the folder
    assertEquals((await get("/", { method: "POST", body: "x" })).status, 405);
    const head = await fetch(server.httpUrl!, { method: "HEAD" });
    assertEquals(head.status, 200);
    assertEquals(head.headers.get("content-length"), "13");
    await head.body?.cancel();
    for (const target of ["/../outside.txt", "/%2e%2e/outside.txt", "/dist/../../outside.txt"]) {
      const status = await rawStatus(server.port, target);
      assert(!status.includes(" 200 "), `${target}: ${status}`);
    }

    // Signaling still works on the same port.
    const ws = new WebSocket(server.url);
    const frames: string[] = [];
    const got = new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        frames.push(e.data);
        if (String(e.data).startsWith("J: ")) resolve();
      };
    });
    ws.onopen = () => ws.send("J: \n");
    await got;
    assertEquals(frames[0], "I: 1\n");
    const closed = new Promise((r) => ws.onclose = r);
    ws.close();
    await closed;
  } finally {
    await server.shutdown();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("static: without staticDir plain requests still get 426", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  try {
    assertEquals(server.httpUrl, undefined);
    const r = await fetch(`http://127.0.0.1:${server.port}/`);
    assertEquals(r.status, 426);
    await r.body?.cancel();
  } finally {
    await server.shutdown();
  }
});

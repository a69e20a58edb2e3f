/**
 * A tiny static file handler for the signaling server's optional web page (`staticDir`): `GET`
 * and `HEAD` of regular files under one folder, nothing else. `/` and any path ending in `/` serve
 * that folder's `index.html`. Paths with `..`, `\`, NUL or dot-files, and files that resolve
 * (through symbolic links) outside the folder are refused.
 *
 * @module
 */

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  map: "application/json; charset=utf-8",
  json: "application/json; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
};

/**
 * Maps a URL path to a path relative to the served folder, or undefined when it is not allowed.
 *
 * @example
 * ```ts
 * import { safeRelativePath } from "./_static.ts";
 * console.log(safeRelativePath("/")); // "index.html"
 * console.log(safeRelativePath("/dist/app.js")); // "dist/app.js"
 * console.log(safeRelativePath("/../etc/passwd")); // undefined
 * console.log(safeRelativePath("/%2e%2e/secret")); // undefined
 * ```
 */
export function safeRelativePath(urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (!path.startsWith("/") || /[\\\0]/.test(path)) return undefined;
  if (path.endsWith("/")) path += "index.html";
  const parts = path.slice(1).split("/");
  if (parts.some((p) => p === "" || p.startsWith("."))) return undefined;
  return parts.join("/");
}

function contentType(path: string): string {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
}

function plain(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(text + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...extra },
  });
}

/**
 * Answers one request from the files under `root` (an absolute folder path).
 *
 * @example
 * ```ts
 * import { serveStatic } from "./_static.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/index.html`, "<p>hi</p>");
 * const ok = await serveStatic(new Request("http://x/"), root);
 * console.log(ok.status, await ok.text()); // 200 "<p>hi</p>"
 * const missing = await serveStatic(new Request("http://x/nope.js"), root);
 * console.log(missing.status); // 404
 * await missing.body?.cancel();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function serveStatic(request: Request, root: string): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return plain(405, "Method not allowed", { allow: "GET, HEAD" });
  }
  const relative = safeRelativePath(new URL(request.url).pathname);
  if (relative === undefined) return plain(404, "Not found");
  let realRoot: string;
  let real: string;
  try {
    realRoot = await Deno.realPath(root);
    real = await Deno.realPath(`${realRoot}/${relative}`);
  } catch {
    return plain(404, "Not found");
  }
  if (!real.startsWith(realRoot + "/")) return plain(404, "Not found");
  let body: Uint8Array;
  try {
    const info = await Deno.stat(real);
    if (!info.isFile) return plain(404, "Not found");
    body = await Deno.readFile(real);
  } catch {
    return plain(404, "Not found");
  }
  const headers = {
    "content-type": contentType(real),
    "content-length": String(body.byteLength),
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  };
  return new Response(request.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, {
    headers,
  });
}

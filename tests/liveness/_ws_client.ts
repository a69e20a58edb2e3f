/**
 * A signaling client for the lab tests: joins `<lobby>` (empty: creates one) on `<url>` and prints
 * every frame it receives as a JSON line `{"frame": text, "at": Date.now()}`, and its closing as
 * `{"closed": code, "reason": text, "at": ...}`. Not a test file.
 *
 * ```sh
 * deno run -A tests/liveness/_ws_client.ts ws://198.18.0.1:9080 ""
 * ```
 *
 * @module
 */
const [url, lobby = ""] = Deno.args;
const say = (value: unknown) => console.log(JSON.stringify(value));
const ws = new WebSocket(url);
ws.onopen = () => ws.send(`J: ${lobby}\n`);
ws.onmessage = (e) => say({ frame: String(e.data), at: Date.now() });
ws.onclose = (e) => {
  say({ closed: e.code, reason: e.reason, at: Date.now() });
  Deno.exit(0);
};

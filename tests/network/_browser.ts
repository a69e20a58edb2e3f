/**
 * Headless Chromium inside a lab namespace (run with `ip netns exec`): opens the demo page at the
 * given address, which joins a lobby by itself (`?lobby=…`, ICE options in the query), and reports
 * on stdout, one JSON object per line:
 *
 * - `{"type":"connected","ms","peer","candidates","protocol"}` once a peer is connected
 *   (candidate types from the page's `mesh.stats()`; the protocol the page speaks),
 * - `{"type":"received","in"}` once `expect` reliable packets arrived from that peer (after
 *   sending it `expect` chat lines),
 * - `{"type":"closed"}` after `quit` on stdin.
 *
 * Usage: `_browser.ts <page url> <expect>`.
 *
 * @module
 */
import { chromium } from "playwright-core";
import type { MeshSnapshot, PageHooks } from "../../web/session.ts";
import { lines } from "../../demo/_lines.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../web/_chromium.ts";

const [pageUrl, expectText] = Deno.args;
const expect = Number(expectText);
const out = (value: unknown) => console.log(JSON.stringify(value));
const started = performance.now();

const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.error(`page: ${m.text()}`));
  await page.goto(pageUrl);
  const state = () =>
    page.evaluate(() => (globalThis as unknown as PageHooks).meshState()) as Promise<
      MeshSnapshot | null
    >;
  let s: MeshSnapshot | null = null;
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    s = await state();
    const peer = s?.peers.find((p) => p.connected && p.candidates);
    if (peer) {
      out({
        type: "connected",
        ms: Math.round(performance.now() - started),
        peer: peer.id,
        candidates: peer.candidates,
        protocol: s?.protocol,
      });
      for (let i = 0; i < expect; i++) {
        await page.evaluate((t) => (globalThis as unknown as PageHooks).meshSay(t), `chat ${i}`);
      }
      while (Date.now() < deadline) {
        const now = (await state())?.peers.find((p) => p.id === peer.id);
        if (now && now.in[2] >= expect) {
          out({ type: "received", in: now.in });
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!s?.peers.some((p) => p.connected)) out({ type: "timeout", state: s });
  for await (const line of lines(Deno.stdin.readable)) if (line === "quit") break;
} finally {
  await browser.close();
}
out({ type: "closed" });
Deno.exit(0);

/**
 * Liveness next to a real browser: a Chromium page running the mesh whose renderer crashes
 * (CDP `Page.crash`: no unload, no SCTP shutdown, the process is gone) is reported
 * `peer_disconnected` by a node-datachannel mesh within 3.5 s, idle and busy. Without liveness a
 * crashed page is only noticed by libdatachannel's SCTP (12.6 s busy) or ICE consent (about 27 s
 * idle).
 *
 * Chromium missing is a failure, not a skip (`.ci/run` installs it).
 */
import { assert, assertEquals } from "@std/assert";
import { chromium } from "playwright-core";
import * as esbuild from "esbuild";
import { CandidateQueue, createPeerConnection } from "../../adapters/node_datachannel.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { GodotError } from "../../core/constants.ts";
import { recordSignals, until } from "../_mesh.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];
const BOUND_MS = 3500;

/** Waits for `p` at most `ms` (a crashed page can leave playwright calls unanswered). */
async function within(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p.catch(() => {}),
    new Promise<void>((r) =>
      timer = setTimeout(() => {
        console.log(`${what} did not finish within ${ms} ms`);
        r();
      }, ms)
    ),
  ]);
  clearTimeout(timer);
}

async function bundle(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [new URL("./_page.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "warning",
  });
  await esbuild.stop();
  return result.outputFiles[0].text;
}

Deno.test("a crashed Chromium page (renderer killed) is gone within 3.5 s, idle and busy", async () => {
  const code = await bundle();
  for (const mode of ["idle", "busy"] as const) {
    // A browser per run: a crashed renderer may take the headless browser down with it.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const page = await browser.newPage();
      await page.addScriptTag({ content: code, type: "module" });
      await page.waitForFunction(() => "lv" in globalThis);
      const mesh = new WebRTCMultiplayer({ highWaterMark: 1 << 20 });
      const log = recordSignals(mesh);
      mesh.initialize(1);
      const pc = createPeerConnection();
      assertEquals(mesh.addPeer(pc, 2), GodotError.OK);
      const queue = new CandidateQueue((c) => pc.addIceCandidate(c));
      const ours: Array<{ candidate: string; sdpMid?: string }> = [];
      pc.addEventListener("icecandidate", (e) => {
        const c = (e as Event & { candidate?: { candidate: string; sdpMid?: string } }).candidate;
        if (c?.candidate) ours.push({ candidate: c.candidate, sdpMid: c.sdpMid });
      });
      await pc.setLocalDescription(await pc.createOffer());
      const answer = await page.evaluate(
        // deno-lint-ignore no-explicit-any
        (sdp) => (globalThis as any).lv.answer(2, 1, sdp),
        pc.localDescription!.sdp!,
      );
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
      await queue.ready();
      let relaying = true;
      const relay = (async () => {
        while (relaying) {
          for (const c of ours.splice(0)) {
            // deno-lint-ignore no-explicit-any
            await page.evaluate((c) => (globalThis as any).lv.addCandidate(c), c).catch(() => {});
          }
          // deno-lint-ignore no-explicit-any
          const theirs = await page.evaluate(() => (globalThis as any).lv.takeCandidates())
            .catch(() => []);
          for (const c of theirs) await queue.add(c).catch(() => {});
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      try {
        await until(() => mesh.getPeer(2)?.connected === true, 15000, "page connected");
        await until(() => mesh.stats().peers.get(2)?.departure === "beacons", 5000, "page proven");
        if (mode === "busy") {
          // deno-lint-ignore no-explicit-any
          await page.evaluate(() => (globalThis as any).lv.startSending());
          await until(() => mesh.stats().received > 50, 10000, "packets from the page");
        }
        relaying = false;
        await relay;
        const gone = new Promise<number>((resolve) =>
          mesh.addEventListener("peer_disconnected", () => resolve(performance.now()))
        );
        await new Promise((r) => setTimeout(r, Math.random() * 1000));
        const cdp = await page.context().newCDPSession(page);
        const crashedAt = performance.now();
        // The renderer dies; the call itself may never be answered.
        cdp.send("Page.crash").catch(() => {});
        const ms = (await gone) - crashedAt;
        console.log(`Chromium ${mode}: renderer crash detected after ${ms.toFixed(0)} ms`);
        assert(ms < BOUND_MS, `detected after ${ms.toFixed(0)} ms`);
        assertEquals(log, ["peer_connected(2)", "peer_disconnected(2)"]);
      } finally {
        relaying = false;
        await relay;
        mesh.close();
        await mesh.whenClosed();
      }
    } finally {
      await within(browser.close(), 10000, "browser.close()");
    }
  }
});

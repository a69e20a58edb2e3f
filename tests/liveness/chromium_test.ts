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
import { CandidateQueue, createPeerConnection } from "../../adapters/node_datachannel.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { GodotError } from "../../core/constants.ts";
import { recordSignals, until } from "../_mesh.ts";
import { withoutCandidates } from "../../adapters/loopback.ts";
import { lines } from "../../demo/_lines.ts";
import { bundlePage, CHROMIUM, CHROMIUM_ARGS } from "../web/_chromium.ts";

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

/** What `_page.ts` puts on the page's `globalThis` (called inside `page.evaluate`). */
type Candidate = { candidate: string; sdpMid?: string };
type PageApi = Record<"lv" | "godot", Record<string, (...args: unknown[]) => unknown>>;

/**
 * Mesh peer 1 (node-datachannel) offers to peer 2: its connection, a queue for the remote
 * candidates and the list its own candidates collect in (relayed by the test).
 */
async function offerFrom(mesh: WebRTCMultiplayer) {
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
  return { pc, queue, ours };
}

const bundle = () => bundlePage(new URL("./_page.ts", import.meta.url));

Deno.test("a crashed Chromium page (renderer killed) is gone within 3.5 s, idle and busy", async () => {
  const code = await bundle();
  for (const mode of ["idle", "busy"] as const) {
    // A browser per run: a crashed renderer may take the headless browser down with it.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
    try {
      const page = await browser.newPage();
      await page.addScriptTag({ content: code, type: "module" });
      await page.waitForFunction(() => "lv" in globalThis);
      const mesh = new WebRTCMultiplayer({ highWaterMark: 1 << 20 });
      const log = recordSignals(mesh);
      const { pc, queue, ours } = await offerFrom(mesh);
      const answer = await page.evaluate(
        (sdp) => (globalThis as unknown as PageApi).lv.answer(2, 1, sdp),
        pc.localDescription!.sdp!,
      );
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
      await queue.ready();
      let relaying = true;
      const relay = (async () => {
        while (relaying) {
          for (const c of ours.splice(0)) {
            await page.evaluate((c) => (globalThis as unknown as PageApi).lv.addCandidate(c), c)
              .catch(() => {});
          }
          const theirs = (await page.evaluate(() =>
            (globalThis as unknown as PageApi).lv.takeCandidates()
          )
            .catch(() => [])) as Candidate[];
          for (const c of theirs) await queue.add(c).catch(() => {});
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      try {
        await until(() => mesh.getPeer(2)?.connected === true, 15000, "page connected");
        await until(() => mesh.stats().peers.get(2)?.departure === "beacons", 5000, "page proven");
        if (mode === "busy") {
          await page.evaluate(() => (globalThis as unknown as PageApi).lv.startSending());
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

Deno.test("Chromium detects a SIGKILLed Deno peer within 3.5 s (busy)", async () => {
  const code = await bundle();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_peer.ts", import.meta.url).pathname, "2", "1", "busy"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const send = (v: unknown) =>
    writer.write(new TextEncoder().encode(JSON.stringify(v) + "\n")).catch(() => {});
  const stderr = new Response(child.stderr).text();
  try {
    const page = await browser.newPage();
    await page.addScriptTag({ content: code, type: "module" });
    await page.waitForFunction(() => "lv" in globalThis);
    const lv = (f: string, ...a: unknown[]) =>
      page.evaluate(
        ([f, a]) => (globalThis as unknown as PageApi).lv[f as string](...(a as unknown[])),
        [f, a],
      );
    const offer = (await lv("offer", 1, 2)) as string;
    let answered = false;
    const toPage: unknown[] = [];
    const reading = (async () => {
      for await (const line of lines(child.stdout)) {
        const msg = JSON.parse(line);
        if (msg.type === "answer") {
          await lv("applyAnswer", msg.sdp);
          answered = true;
        } else if (msg.type === "candidate") {
          toPage.push({ candidate: msg.candidate, sdpMid: msg.sdpMid });
        }
      }
    })();
    await send({ type: "offer", sdp: withoutCandidates(offer) });
    const end = Date.now() + 20000;
    let proven = false;
    while (!proven) {
      if (Date.now() > end) throw new Error(`not connected: ${await lv("state")}`);
      if (answered) {
        for (const c of toPage.splice(0)) await lv("addCandidate", c);
        for (const c of (await lv("takeCandidates")) as unknown[]) {
          await send({ type: "candidate", ...(c as object) });
        }
      }
      const s = (await lv("state")) as { events: string[]; received: number; departure?: string };
      proven = s.departure === "beacons" && s.received > 50;
      await new Promise((r) => setTimeout(r, 50));
    }
    await lv("startSending");
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const killedAt = Date.now();
    child.kill("SIGKILL");
    await child.status;
    let departedAt: number | undefined;
    while (departedAt === undefined && Date.now() < killedAt + 10000) {
      const s = (await lv("state")) as { events: string[] };
      const e = s.events.find((x) => x.startsWith("peer_disconnected(2)@"));
      if (e !== undefined) departedAt = Number(e.split("@")[1]);
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert(departedAt !== undefined, "Chromium never reported the peer gone within 10 s");
    const ms = departedAt - killedAt;
    console.log(`Chromium survivor: SIGKILL of the Deno peer detected after ${ms} ms`);
    assert(ms < BOUND_MS, `detected after ${ms} ms`);
    await writer.close().catch(() => {});
    await reading.catch(() => {});
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
    await child.status;
    await stderr;
    await within(browser.close(), 10000, "browser.close()");
  }
});

Deno.test("a Godot-shaped Chromium peer (only channels 1-3): byte-exact for 10 s, nothing extra, no departure", async () => {
  const code = await bundle();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  const mesh = new WebRTCMultiplayer();
  const log = recordSignals(mesh);
  try {
    const page = await browser.newPage();
    await page.addScriptTag({ content: code, type: "module" });
    await page.waitForFunction(() => "godot" in globalThis);
    // deno-lint-ignore no-explicit-any -- the page's answers are read field by field below
    const godot = (f: string, ...a: unknown[]): Promise<any> =>
      page.evaluate(
        ([f, a]) => (globalThis as unknown as PageApi).godot[f as string](...(a as unknown[])),
        [
          f,
          a,
        ],
      );
    const { pc, queue, ours } = await offerFrom(mesh);
    const answer = await godot("answer", withoutCandidates(pc.localDescription!.sdp!));
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    await queue.ready();
    const end0 = Date.now() + 15000;
    while (mesh.getPeer(2)?.connected !== true) {
      if (Date.now() > end0) throw new Error("Godot-shaped page never connected");
      for (const c of ours.splice(0)) await godot("addCandidate", c);
      const theirs = (await page.evaluate(() =>
        (globalThis as unknown as PageApi).lv.takeCandidates()
      )) as Candidate[];
      for (const c of theirs) {
        await queue.add(c);
      }
      await new Promise((r) =>
        setTimeout(r, 50)
      );
    }
    const sent: string[][] = [[], [], []];
    const fromGodot: string[] = [];
    const received: string[] = [];
    const reader = (async () => {
      for await (const p of mesh.packets()) received.push(toHex(p.data));
    })();
    const end = performance.now() + 10_000;
    let n = 0;
    while (performance.now() < end) {
      for (const mode of [0, 1, 2]) {
        const payload = new Uint8Array(1 + (n % 300)).map((_, k) => (n * 7 + k * 13 + mode) & 255);
        mesh.transferMode = mode;
        assertEquals(mesh.putPacket(payload), GodotError.OK);
        sent[[2, 1, 0][mode]].push(toHex(payload));
      }
      await godot("send", n);
      fromGodot.push(toHex(new Uint8Array(1 + (n % 200)).fill(n & 255)));
      n++;
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => received.length >= fromGodot.length, 5000, "payloads from the page");
    let state = await godot("state");
    const until2 = Date.now() + 5000;
    while (state.got[0].length < sent[0].length && Date.now() < until2) {
      await new Promise((r) => setTimeout(r, 50));
      state = await godot("state");
    }
    assertEquals(state.got[0], sent[0], "reliable channel: every payload, byte-exact, in order");
    for (const p of state.got[1]) assert(sent[1].includes(p), "ordered: only sent payloads");
    for (const p of state.got[2]) assert(sent[2].includes(p), "unreliable: only sent payloads");
    assertEquals(received, fromGodot);
    assertEquals(state.surprises, [], "no extra channel, error or close in Chromium");
    assertEquals(state.open, ["open", "open", "open"]);
    assertEquals(log, ["peer_connected(2)"]);
    assertEquals(mesh.stats().peers.get(2)?.departure, "transport", "falls back to the transport");
    console.log(
      `Godot-shaped Chromium peer: ${n} rounds, ${state.got[0].length} reliable payloads`,
    );
    mesh.close();
    await reader;
  } finally {
    mesh.close();
    await mesh.whenClosed();
    await within(browser.close(), 10000, "browser.close()");
  }
});

function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

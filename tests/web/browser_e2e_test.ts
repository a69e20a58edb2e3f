/**
 * The mesh in a real browser, across every WebRTC stack: two pages of the demo in headless Chromium
 * (Debian's `/usr/bin/chromium`, driven by playwright-core; libwebrtc), two Deno peers
 * (`demo/web_peer.ts`) and two Node peers (`tests/web/_node_peer.mjs`, using the npm package built
 * by `scripts/build_npm.ts`), one of each on node-datachannel (libdatachannel) and one on
 * `@roamhq/wrtc` (libwebrtc), each server-side peer in its own process, join one lobby through our
 * signaling server (which also serves the page) and form a full mesh of 6: Chromium ↔ libwebrtc in
 * Node (the same stack on both ends), libwebrtc ↔ libdatachannel (what a Godot-native peer meets),
 * and every other pair. Page B speaks Godot 4's protocol (the page's protocol switch,
 * `?protocol=godot4`: a `WebRTCMultiplayerPeer`), the others Godot 3's: a mixed lobby, the server
 * translating between them. Checks every pair in both directions on all three transfer modes, chat
 * text, RTT, then closes one page and checks that all the others see `peer_disconnected` for it.
 * Writes a screenshot of the live page to
 * `.test-results/web-screenshot.png` (and to `docs/screenshot.png`, the README's, with
 * `UPDATE_SCREENSHOT=1`).
 *
 * Chromium missing is a failure, not a skip (`.ci/run` installs it).
 */
import { assert, assertEquals } from "@std/assert";
import { type Browser, chromium, type Page } from "playwright-core";
import { buildNpm } from "../../scripts/build_npm.ts";
import { buildWeb } from "../../scripts/build_web.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import type { MeshSnapshot, PageHooks } from "../../web/session.ts";
import { lines } from "../../demo/_lines.ts";
import { STACKS } from "../../adapters/stack.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "./_chromium.ts";

const root = new URL("../../", import.meta.url).pathname;
const MODES = ["unreliable", "ordered", "reliable"];

async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20000,
): Promise<T> {
  const end = Date.now() + ms;
  while (true) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A server-side peer process and its latest snapshot. */
interface ServerPeer {
  readonly name: string;
  /** Its chat greeting without the id (`"hello from Deno peer"`). */
  readonly greeting: string;
  readonly child: Deno.ChildProcess;
  latest: MeshSnapshot | undefined;
  error: string | undefined;
  stderr: string;
  readonly done: Promise<void>;
}

function startPeer(name: string, greeting: string, command: string, args: string[]): ServerPeer {
  const child = new Deno.Command(command, {
    args,
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const peer: ServerPeer = {
    name,
    greeting,
    child,
    latest: undefined,
    error: undefined,
    stderr: "",
    done: Promise.resolve(),
  };
  const out = (async () => {
    for await (const line of lines(child.stdout)) {
      try {
        const msg = JSON.parse(line);
        if (msg.type === "snapshot") peer.latest = msg;
        else if (msg.type === "error") peer.error = msg.message;
      } catch {
        peer.stderr += `stdout: ${line}\n`;
      }
    }
  })();
  const err = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      peer.stderr += chunk;
    }
  })();
  (peer as { done: Promise<void> }).done = Promise.all([out, err, child.status]).then(() => {});
  return peer;
}

async function stopPeer(peer: ServerPeer): Promise<void> {
  const writer = peer.child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("quit\n")).catch(() => {});
  await writer.close().catch(() => {});
  const timer = setTimeout(() => {
    try {
      peer.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, 5000);
  await peer.done;
  clearTimeout(timer);
}

async function pageState(page: Page): Promise<MeshSnapshot | null> {
  return await page.evaluate(() => (globalThis as unknown as PageHooks).meshState());
}

/** Problems with what `from` saw of `others` (full mesh, open channels, traffic both ways). */
function meshProblems(
  name: string,
  s: MeshSnapshot | null | undefined,
  others: number[],
): string[] {
  if (!s) return [`${name}: no state`];
  const problems: string[] = [];
  const expected = [...others].sort((a, b) => a - b);
  if (JSON.stringify(s.connected) !== JSON.stringify(expected)) {
    problems.push(`${name} (${s.id}) connected to [${s.connected}], expected [${expected}]`);
  }
  for (const id of others) {
    const p = s.peers.find((p) => p.id === id);
    if (!p) {
      problems.push(`${name} (${s.id}) does not know peer ${id}`);
      continue;
    }
    if (p.connectionState !== "connected") problems.push(`${name}: ${id} is ${p.connectionState}`);
    if (p.channels.some((c) => c !== "open")) {
      problems.push(`${name}: ${id} channels ${p.channels}`);
    }
    p.in.forEach((n, mode) => {
      if (n === 0) problems.push(`${name} (${s.id}) got nothing ${MODES[mode]} from ${id}`);
    });
    p.out.forEach((n, mode) => {
      if (n === 0) problems.push(`${name} (${s.id}) sent nothing ${MODES[mode]} to ${id}`);
    });
    if (p.rtt === null) problems.push(`${name} (${s.id}) has no RTT for ${id}`);
  }
  return problems;
}

Deno.test("browser: 2 Chromium pages, Deno and Node peers (npm build) on node-datachannel and on libwebrtc form a full mesh", async () => {
  const hasChromium = await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false);
  if (!hasChromium) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install it with "apt-get install -y chromium" ` +
        `(.ci/run does so) or set CHROMIUM_PATH`,
    );
  }
  const build = await buildWeb();
  assert(build.bytes > 10000, "the bundle is suspiciously small");
  assert(
    !build.inputs.some((p) =>
      /node_datachannel|node-datachannel|adapters\/wrtc|roamhq|_node_websocket|\/ws\//.test(p)
    ),
    `Node-only code in the browser bundle: ${build.inputs.join(", ")}`,
  );

  // The npm package, built privately (other tests may build npm/ at the same time). Inside the
  // project, so that Node finds its dependencies in node_modules/.
  const npmDir = `${root}.test-results/web-npm-${Deno.pid}`;
  await buildNpm(npmDir);

  const serverLog: string[] = [];
  const server = await serveSignalingDeno({
    port: 0,
    staticDir: new URL("../../web/", import.meta.url),
    log: (m) => serverLog.push(m),
  });
  const peers: ServerPeer[] = [];
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const openPage = async (name: string, path: string) => {
      const page = await context.newPage();
      page.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") pageErrors.push(`${name} console: ${m.text()}`);
      });
      await page.goto(server.httpUrl! + path);
      return page;
    };

    // Page A creates the lobby through the form (it is the host, id 1).
    const pageA = await openPage("page A", "");
    assertEquals(await pageA.textContent("#join-button"), "Create lobby");
    await pageA.click("#join-button");
    const a0 = await until("page A to create a lobby", async () => {
      const s = await pageState(pageA);
      return s && s.lobby !== "" ? s : undefined;
    });
    assertEquals(a0.id, 1);
    const lobby = a0.lobby;

    // Page B (speaking Godot 4) joins through the invite link; Deno and Node peers of each stack
    // join from their own processes.
    const pageB = await openPage("page B", `?lobby=${lobby}&protocol=godot4`);
    for (const stack of STACKS) {
      peers.push(
        startPeer(`deno peer (${stack})`, "hello from Deno peer", Deno.execPath(), [
          "run",
          "-A",
          "demo/web_peer.ts",
          "--url",
          server.url,
          "--lobby",
          lobby,
          "--json",
          "--stack",
          stack,
        ]),
      );
      peers.push(
        startPeer(`node peer (${stack})`, "hello from Node peer", "node", [
          "tests/web/_node_peer.mjs",
          npmDir,
          server.url,
          lobby,
          stack,
        ]),
      );
    }
    const b0 = await until("page B to join", async () => {
      const s = await pageState(pageB);
      return s && s.id !== 0 ? s : undefined;
    });
    assertEquals(b0.lobby, lobby);
    assertEquals([a0.protocol, b0.protocol, b0.role], ["godot3", "godot4", "mesh"]);
    for (const p of peers) {
      await until(`${p.name} to join`, () => {
        if (p.error) throw new Error(`${p.name}: ${p.error}\n${p.stderr}`);
        return p.latest && p.latest.id !== 0;
      });
    }
    const ids = [1, b0.id, ...peers.map((p) => p.latest!.id)];
    assertEquals(new Set(ids).size, 2 + peers.length, `ids ${ids}`);
    const n = ids.length;
    const others = (id: number) => ids.filter((x) => x !== id);

    // Chat from both pages: page A through the form, page B through the hook.
    await until(`page A to see ${n - 1} connected peers`, async () => {
      const s = await pageState(pageA);
      return s && s.connected.length === n - 1;
    });
    await until(`page B to see ${n - 1} connected peers`, async () => {
      const s = await pageState(pageB);
      return s && s.connected.length === n - 1;
    });
    await pageA.fill("#chat-input", "hi from page A");
    await pageA.press("#chat-input", "Enter");
    assertEquals(
      await pageB.evaluate(() => (globalThis as unknown as PageHooks).meshSay("hi from page B")),
      n - 1,
    );

    // Full mesh, every channel open, traffic on every mode both ways, RTT everywhere.
    let last: string[] = [];
    try {
      await until("a full mesh with traffic on all three modes both ways", async () => {
        last = [
          ...meshProblems("page A", await pageState(pageA), others(1)),
          ...meshProblems("page B", await pageState(pageB), others(b0.id)),
          ...peers.flatMap((p) => meshProblems(p.name, p.latest, others(p.latest!.id))),
        ];
        return last.length === 0;
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}:\n  ${last.join("\n  ")}`);
    }

    // Chat text arrived where it should.
    const chatFrom = (s: MeshSnapshot | null | undefined, from: number) =>
      (s?.chat ?? []).filter((l) => l.from === from).map((l) => l.text);
    await until("chat to arrive everywhere", async () => {
      const a = await pageState(pageA);
      const b = await pageState(pageB);
      const ok = [a, b].every((s) =>
        peers.every((p) =>
          chatFrom(s, p.latest!.id).includes(`${p.greeting} ${p.latest!.id}`)
        )
      ) &&
        chatFrom(b, 1).includes("hi from page A") &&
        chatFrom(a, b0.id).includes("hi from page B") &&
        peers.every((p) =>
          chatFrom(p.latest, 1).includes("hi from page A") &&
          chatFrom(p.latest, b0.id).includes("hi from page B")
        );
      return ok;
    }, 10000);

    // The page shows it: a row per peer, all channel badges open.
    assertEquals(await pageA.locator("#mesh-rows tr[data-peer]").count(), n - 1);
    assertEquals(await pageA.locator("#mesh-rows .ch.open").count(), 3 * (n - 1));
    assertEquals(await pageA.locator("#chat-log li").count() >= 4, true);

    // The screenshot of a live mesh, for the README and as a test artifact.
    await new Promise((r) => setTimeout(r, 400)); // a few more frames of moving dots
    const png = await pageA.screenshot({ fullPage: true });
    await Deno.mkdir(`${root}docs`, { recursive: true });
    await Deno.mkdir(`${root}.test-results`, { recursive: true });
    await Deno.writeFile(`${root}.test-results/web-screenshot.png`, png);
    // The README's copy changes only on request, so a test run leaves the work tree clean.
    if (Deno.env.get("UPDATE_SCREENSHOT") === "1") {
      await Deno.writeFile(`${root}docs/screenshot.png`, png);
    }

    // Page B goes away: everyone else sees peer_disconnected for it.
    await pageB.close();
    await until("peer_disconnected for page B everywhere", async () => {
      const a = await pageState(pageA);
      return a?.disconnected.includes(b0.id) && a.connected.length === n - 2 &&
        peers.every((p) =>
          p.latest?.disconnected.includes(b0.id) && p.latest.connected.length === n - 2
        );
    }, 15000);
    assertEquals(pageErrors, []);
  } catch (error) {
    const details = [
      ...pageErrors.map((e) => `page error: ${e}`),
      ...peers.map((p) => `${p.name} stderr: ${p.stderr.trim().slice(-2000)}`),
      `server log (last 20): ${serverLog.slice(-20).join(" | ")}`,
    ];
    throw new Error(`${(error as Error).message}\n${details.join("\n")}`);
  } finally {
    await Promise.all(peers.map(stopPeer));
    await browser?.close();
    await server.shutdown();
    await Deno.remove(npmDir, { recursive: true }).catch(() => {});
  }
});

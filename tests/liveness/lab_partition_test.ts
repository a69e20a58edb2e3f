/**
 * Liveness on a real network partition (the network lab, tests/network/_lab.ts): peer 1 on the wan
 * and peer 2 behind the cone NAT of lanA, each a process of its own in its namespace, exchange
 * reliable traffic; then lanA's router drops everything. Both sides must report the other gone
 * within 3.5 s (the transport alone: 12.6 s with traffic in flight). Needs root; the lab says why
 * not in one line otherwise (a failure, not a skip, as CI runs as root).
 */
import { assert } from "@std/assert";
import { createLab, type LabProcess, labUnavailable, WAN_IP } from "../network/_lab.ts";

const deno = Deno.execPath();
const PEER = new URL("./_peer.ts", import.meta.url).pathname;
const BOUND_MS = 3500;

/** Forwards offer/answer/candidate lines from `from` to `to`; resolves the other lines' events. */
function relay(from: LabProcess, to: LabProcess, events: Map<string, (msg: unknown) => void>) {
  return (async () => {
    for await (const line of from.lines) {
      let msg: { type: string };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.type === "offer" || msg.type === "answer" || msg.type === "candidate") {
        await to.write(line);
      } else events.get(msg.type)?.(msg);
    }
  })();
}

function once(events: Map<string, (msg: unknown) => void>, type: string): Promise<unknown> {
  return new Promise((resolve) => events.set(type, resolve));
}

Deno.test("a partition is detected on both sides within 3.5 s (busy, lab: wan peer and a peer behind NAT)", async () => {
  const why = await labUnavailable();
  if (why !== undefined) throw new Error(`network lab unavailable: ${why}`);
  const lab = await createLab();
  try {
    const wan = lab.exec("wan", [deno, "run", "-A", PEER, "1", "2", "busy", "offer"]);
    const lan = lab.exec("lanA", [deno, "run", "-A", PEER, "2", "1", "busy"]);
    const wanEvents = new Map<string, (msg: unknown) => void>();
    const lanEvents = new Map<string, (msg: unknown) => void>();
    const connected = [once(wanEvents, "connected"), once(lanEvents, "connected")];
    const gone = [once(wanEvents, "disconnected"), once(lanEvents, "disconnected")];
    relay(wan, lan, wanEvents);
    relay(lan, wan, lanEvents);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(connected),
      new Promise((_, reject) =>
        timer = setTimeout(
          () => reject(new Error(`not connected: ${wan.stderr()} ${lan.stderr()}`)),
          20000,
        )
      ),
    ]);
    clearTimeout(timer);
    // Let beacons prove liveness both ways and traffic flow.
    await new Promise((r) => setTimeout(r, 1500));
    const asked = Date.now();
    await lab.partition("lanA");
    // The cut is certainly in effect from here (the nft command returned); it may be earlier.
    const cutAt = Date.now();
    const [wanSaw, lanSaw] = (await Promise.all(gone)) as Array<{ at: number }>;
    const ms = [wanSaw.at - cutAt, lanSaw.at - cutAt];
    console.log(
      `partition detected after ${ms[0]} ms (wan side) and ${ms[1]} ms (NAT side); the nft ` +
        `command took ${cutAt - asked} ms`,
    );
    for (const m of ms) assert(m < BOUND_MS, `detected after ${m} ms`);
    assert(await lab.dropped("lanA") > 0, "the partition really dropped packets");
  } finally {
    await lab.teardown();
  }
});

const CLI = new URL("../../signaling/cli.ts", import.meta.url).pathname;
const WS_CLIENT = new URL("./_ws_client.ts", import.meta.url).pathname;
const SERVER_BOUND_MS = 10_000;

/** Collects a lab process's JSON lines; `next(pred)` waits for the first one that matches. */
function reader(p: LabProcess) {
  const seen: Array<Record<string, unknown>> = [];
  let wake = () => {};
  (async () => {
    for await (const line of p.lines) {
      try {
        seen.push(JSON.parse(line));
      } catch {
        seen.push({ text: line });
      }
      wake();
    }
  })();
  return async (pred: (m: Record<string, unknown>) => boolean, ms: number, what: string) => {
    const end = Date.now() + ms;
    while (true) {
      const hit = seen.find(pred);
      if (hit !== undefined) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${p.stderr()}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
}

Deno.test("both signaling servers drop a partitioned member within 10 s (lab: server on the wan, member behind NAT)", async () => {
  const why = await labUnavailable();
  if (why !== undefined) throw new Error(`network lab unavailable: ${why}`);
  const lab = await createLab();
  try {
    for (const [kind, lan, port] of [["deno", "lanA", 9081], ["node", "lanB", 9082]] as const) {
      const server = lab.exec("wan", [
        deno,
        "run",
        "-A",
        CLI,
        "--host",
        WAN_IP,
        "--port",
        `${port}`,
        ...(kind === "node" ? ["--node"] : []),
      ]);
      await reader(server)(
        (m) => String(m.text ?? "").includes("listening"),
        15000,
        `${kind} server up`,
      );
      const url = `ws://${WAN_IP}:${port}`;
      const host = reader(lab.exec("wan", [deno, "run", "-A", WS_CLIENT, url, ""]));
      const joined = await host((m) => String(m.frame).startsWith("J: "), 10000, "lobby");
      const lobby = String(joined.frame).slice(3, -1);
      const member = reader(lab.exec(lan, [deno, "run", "-A", WS_CLIENT, url, lobby]));
      const id = String((await member((m) => String(m.frame).startsWith("I: "), 10000, "id")).frame)
        .slice(3, -1);
      await host((m) => m.frame === `N: ${id}\n`, 10000, "member announced");
      const cutAt = Date.now();
      await lab.partition(lan);
      const d = await host((m) => m.frame === `D: ${id}\n`, SERVER_BOUND_MS + 3000, "D:");
      const ms = Number(d.at) - cutAt;
      console.log(`${kind} server: partitioned member dropped after ${ms} ms`);
      assert(ms < SERVER_BOUND_MS, `${kind}: dropped after ${ms} ms`);
    }
  } finally {
    await lab.teardown();
  }
});

Deno.test("reconnect: a 4 s partition under reliable load heals without a disconnect, 10,000 packets in order (lab)", async () => {
  const why = await labUnavailable();
  if (why !== undefined) throw new Error(`network lab unavailable: ${why}`);
  const lab = await createLab();
  try {
    const wan = lab.exec("wan", [deno, "run", "-A", PEER, "1", "2", "count", "offer", "heal"]);
    const lan = lab.exec("lanA", [deno, "run", "-A", PEER, "2", "1", "count", "answer", "heal"]);
    const wanEvents = new Map<string, (msg: unknown) => void>();
    const lanEvents = new Map<string, (msg: unknown) => void>();
    const connected = [once(wanEvents, "connected"), once(lanEvents, "connected")];
    const interrupted = [once(wanEvents, "interrupted"), once(lanEvents, "interrupted")];
    const resumed = [once(wanEvents, "resumed"), once(lanEvents, "resumed")];
    const received = [once(wanEvents, "received"), once(lanEvents, "received")];
    const departures: string[] = [];
    wanEvents.set("disconnected", () => departures.push("wan side"));
    lanEvents.set("disconnected", () => departures.push("NAT side"));
    relay(wan, lan, wanEvents);
    relay(lan, wan, lanEvents);
    await Promise.all(connected);
    await new Promise((r) => setTimeout(r, 1500));
    const cutAt = Date.now();
    await lab.partition("lanA");
    await Promise.all(interrupted);
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 4000 - Date.now())));
    await lab.restore("lanA");
    const healedAt = Date.now();
    const back = (await Promise.all(resumed)) as Array<{ at: number }>;
    console.log(
      `partition of ${healedAt - cutAt} ms: resumed ${back.map((b) => b.at - healedAt)} ms after ` +
        `the heal`,
    );
    const counts = (await Promise.all(received)) as Array<{ count: number; inOrder: boolean }>;
    for (const c of counts) assert(c.count === 10_000 && c.inOrder, JSON.stringify(c));
    // Two more timeouts' worth: still no departure on either side.
    await new Promise((r) => setTimeout(r, 4000));
    assert(departures.length === 0, `departures: ${departures}`);
  } finally {
    await lab.teardown();
  }
});

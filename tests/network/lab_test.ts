/**
 * The lab itself: topology, NAT behaviour (cone keeps one mapping, symmetric makes one per
 * destination), isolation from the host, faults and their removal, teardown. The NAT/TURN/loss
 * scenarios (`scenarios_test.ts`) and the liveness tests build on it.
 */
import assert from "node:assert/strict";
import { createLab, type Lab, type LanName, NAT_WAN_IP, sweepStaleLabs, WAN_IP } from "./_lab.ts";

const deno = Deno.execPath();
const UDP = new URL("./_udp.ts", import.meta.url).pathname;

async function hostLinks(): Promise<string[]> {
  const out = await new Deno.Command("ip", { args: ["-o", "link"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.split(":")[1]?.trim())
    .filter(Boolean).sort();
}

/** From one socket in `lan`, one datagram per port to the wan echo; the replies, in order. */
async function probe(lab: Lab, lan: LanName, ports: number[], timeoutMs = 1500) {
  const out = await lab.sh(lan, [
    deno,
    "run",
    "-A",
    UDP,
    "probe",
    WAN_IP,
    ...ports.map(String),
    "--timeout",
    String(timeoutMs),
  ]);
  return out.trim().split("\n");
}

Deno.test("network lab: NATs, isolation, faults and teardown", async () => {
  const before = await hostLinks();
  const lab = await createLab();
  let torn = false;
  try {
    assert.deepEqual(await hostLinks(), before, "the lab added nothing to the host namespace");
    // The wan's only link is its bridge; its default gateway is an address nobody has.
    assert.deepEqual(
      (await lab.sh("wan", ["ip", "-o", "link"])).split("\n").filter(Boolean).map((l) =>
        l.split(":")[1].trim().split("@")[0]
      ).filter((n) => !n.startsWith("to-")).sort(),
      ["br0", "lo"],
    );
    assert.match(
      await lab.sh("wan", ["ip", "route", "show", "default"]),
      /via 198\.18\.0\.254 dev br0/,
    );

    const echo = lab.exec("wan", [deno, "run", "-A", UDP, "echo", WAN_IP, "7001", "7002"]);
    assert.equal((await echo.lines.next()).value, "ready", echo.stderr());

    // Cone NAT: the router's address, and one mapping for both destinations.
    const [a1, a2] = await probe(lab, "lanA", [7001, 7002]);
    assert.match(a1, new RegExp(`^${NAT_WAN_IP.lanA}:\\d+$`));
    assert.equal(a1, a2, "a cone NAT keeps one mapping per socket");
    // Symmetric NAT: another mapping per destination.
    const [s1, s2] = await probe(lab, "lanS", [7001, 7002]);
    assert.match(s1, new RegExp(`^${NAT_WAN_IP.lanS}:\\d+$`));
    assert.match(s2, new RegExp(`^${NAT_WAN_IP.lanS}:\\d+$`));
    assert.notEqual(s1, s2, "a symmetric NAT maps each destination apart");
    console.log(`cone mapping ${a1} for both; symmetric ${s1} then ${s2}`);

    // Partition: nothing passes; the other LANs are untouched; restore brings it back.
    await lab.partition("lanA");
    assert.deepEqual(await probe(lab, "lanA", [7001], 500), ["timeout"]);
    assert.match((await probe(lab, "lanB", [7001]))[0], new RegExp(`^${NAT_WAN_IP.lanB}:`));
    assert.ok(await lab.dropped("lanA") >= 1, "the partition counted its drops");
    await lab.restore("lanA");
    assert.match((await probe(lab, "lanA", [7001]))[0], new RegExp(`^${NAT_WAN_IP.lanA}:`));
    assert.equal(await lab.dropped("lanA"), 0, "restore removed the fault rules");

    // Random loss: 25 % each way over 30 round trips loses some and keeps some.
    await lab.loss("lanB", 25);
    const replies = await probe(lab, "lanB", Array(30).fill(7001), 200);
    const lost = replies.filter((r) => r === "timeout").length;
    const drops = await lab.dropped("lanB");
    console.log(`25 % loss: ${lost} of 30 round trips lost, ${drops} packets dropped`);
    assert.ok(lost > 0 && lost < 30, `lost ${lost} of 30`);
    // A lost round trip is exactly one drop: the probe or its reply (no reply to a lost probe).
    assert.equal(drops, lost, "the fault counters count exactly the dropped packets");
    await lab.restore("lanB");

    // Teardown stops the processes and removes every namespace of this run.
    await lab.teardown();
    torn = true;
    const status = await echo.child.status;
    assert.ok(!status.success || status.signal !== null, "the echo server was stopped");
    const left = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" })
      .output();
    assert.doesNotMatch(new TextDecoder().decode(left.stdout), new RegExp(lab.id));
    assert.deepEqual(await hostLinks(), before);
  } finally {
    if (!torn) await lab.teardown();
  }
});

Deno.test("network lab: a run killed before its teardown is swept by the next one", async () => {
  const lab = new URL("./_lab.ts", import.meta.url).href;
  const child = new Deno.Command(deno, {
    args: [
      "eval",
      `import { createLab } from "${lab}"; const l = await createLab();` +
      `l.exec("wan", ["sleep", "60"]); console.log(l.id); await new Promise(() => {});`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const id = new TextDecoder().decode(value).trim();
  assert.match(id, /^wmlab-\d+-/);
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  const list = async () =>
    new TextDecoder().decode(
      (await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output()).stdout,
    );
  assert.match(await list(), new RegExp(id), "the killed run left its namespaces");
  assert.ok(await sweepStaleLabs() >= 7);
  assert.doesNotMatch(await list(), new RegExp(id), "swept");
});

/**
 * A defect of libjuice (node-datachannel's ICE) with coturn, reproduced on the raw stack without
 * any mesh code (see README, "Behind NAT"): libjuice never releases its TURN allocation when a
 * connection closes (no Refresh with lifetime 0), so coturn keeps it for its lifetime (600 s). A
 * later connection whose socket reaches coturn from the same public address and port gets 437
 * (Allocation Mismatch) to its Allocate, and libjuice gives the TURN server up for that connection
 * instead of retrying from another port: no relay candidate, and with policy "relay" no way to
 * connect. In the lab (and behind a port-preserving NAT) the same public port follows from the same
 * local port; here the port is forced (`portRangeBegin` = `portRangeEnd`), where in the wild a
 * random port repeats now and then. If a release fixes it, this test fails.
 */
import assert from "node:assert/strict";
import { createLab } from "./_lab.ts";
import { startTurn } from "./_coturn.ts";

const RAW = new URL("./_turn_raw.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("raw libjuice + coturn: an allocation outlives its connection; the next one from the same address and port gets 437 and no relay candidate", async () => {
  const lab = await createLab();
  try {
    const turn = await startTurn(lab, { kind: "static", username: "lab", credential: "pw" });
    const port = 40000 + Math.floor(Math.random() * 5000);
    const proc = lab.exec("lanA", [
      Deno.execPath(),
      "run",
      "-A",
      RAW,
      turn.url.replace("turn:", "turn:lab:pw@"),
      String(port),
      String(port),
      String(port + 1),
    ], { cwd: ROOT });
    const results: { port: number; relay: number; ms: number }[] = [];
    for await (const line of proc.lines) results.push(JSON.parse(line));
    await proc.stop();
    const log = turn.log();
    await turn.stop();
    console.log(`relay candidates per connection (port, relay, ms): ${JSON.stringify(results)}`);
    const why = `results ${JSON.stringify(results)}\nstderr: ${proc.stderr().slice(-1000)}`;
    assert.equal(results.length, 3, why);
    assert.ok(results[0].relay >= 1, `the first connection on port ${port} allocates: ${why}`);
    assert.equal(results[1].relay, 0, `the second on port ${port} gets no relay candidate: ${why}`);
    assert.ok(results[2].relay >= 1, `another port allocates again: ${why}`);
    assert.match(log, /error 437: Mismatched allocation/, "coturn answered 437");
    assert.doesNotMatch(
      log,
      /closed \(2nd stage\)/,
      "coturn closed no allocation: none was released",
    );
  } finally {
    await lab.teardown();
  }
});

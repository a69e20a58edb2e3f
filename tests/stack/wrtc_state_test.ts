/**
 * A defect of `@roamhq/wrtc` 0.10.0's `connectionstatechange`, reproduced on the raw stack without
 * mesh code, and the wrtc adapter's workaround shown to hold (adapters/wrtc.ts
 * `withSettledConnectionState`). If an upstream release fixes it, the raw half fails: drop the
 * workaround then. The test waits 1 s after closing before the process ends: ending 150 ms after
 * `close()` segfaulted at exit (code 139) in 4 of 7 runs under load, in this file and in
 * wrtc_raw_test.ts (the teardown defect README lists); with 1 s, 0 of 7.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { createPeerConnection } from "../../adapters/wrtc.ts";

Deno.test("raw: connectionstatechange fires for every ICE state change, connectionState unchanged; the adapter fires once per change", async () => {
  const wrtc = (await import("@roamhq/wrtc")).default;
  // deno-lint-ignore no-explicit-any
  type Any = any;
  /** Negotiates `a` with `b` in-process and records what each `connectionstatechange` reads. */
  const connect = async (a: Any, b: Any) => {
    const seen: string[] = [];
    let ice = 0;
    a.addEventListener("connectionstatechange", () => seen.push(a.connectionState));
    a.addEventListener("iceconnectionstatechange", () => ice++);
    const ca = a.createDataChannel("r", { negotiated: true, id: 0 });
    b.createDataChannel("r", { negotiated: true, id: 0 });
    a.addEventListener("icecandidate", (e: Any) => e.candidate && b.addIceCandidate(e.candidate));
    b.addEventListener("icecandidate", (e: Any) => e.candidate && a.addIceCandidate(e.candidate));
    const open = new Promise((r) => ca.addEventListener("open", r));
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    await open;
    await new Promise((r) => setTimeout(r, 500)); // ICE "completed" follows "connected"
    return { seen, ice };
  };
  const rawA = new wrtc.RTCPeerConnection({ iceServers: [] });
  const rawB = new wrtc.RTCPeerConnection({ iceServers: [] });
  const raw = await connect(rawA, rawB);
  // One event per ICE state change (the binding has no OnConnectionChange), so some events report
  // a connectionState that did not change.
  assertEquals(raw.seen.length, raw.ice, JSON.stringify(raw));
  const repeats = raw.seen.filter((s, i) => i > 0 && s === raw.seen[i - 1]);
  assertEquals(repeats.length > 0, true, `no repeated state: ${JSON.stringify(raw)}`);
  rawA.close();
  rawB.close();
  const a = createPeerConnection();
  const b = createPeerConnection();
  const adapted = await connect(a, b);
  // One event per real change, ending "connected". "connecting" may be missed: on loopback the
  // connection can already read "connected" when the first native event is handled (the adapter
  // reports states it reads, not transitions it did not see).
  const expected = adapted.seen.length === 1 ? ["connected"] : ["connecting", "connected"];
  assertEquals(adapted.seen, expected, JSON.stringify(adapted));
  a.close();
  b.close();
  await new Promise((resolve) => setTimeout(resolve, 1000));
});

/**
 * One raw `@roamhq/wrtc` pair, no mesh code: two connections with one negotiated channel,
 * negotiated in-process, opened. For the raw reproductions in wrtc_raw_test.ts.
 *
 * @module
 */
import wrtc from "@roamhq/wrtc";

// deno-lint-ignore no-explicit-any
type Any = any;

/** Makes and opens a raw pair; returns the connections and their channels. */
export async function rawPair(init: Record<string, unknown> = {}): Promise<{
  a: Any;
  b: Any;
  ca: Any;
  cb: Any;
}> {
  const a: Any = new wrtc.RTCPeerConnection({ iceServers: [] });
  const b: Any = new wrtc.RTCPeerConnection({ iceServers: [] });
  const ca = a.createDataChannel("r", { negotiated: true, id: 0, ...init });
  const cb = b.createDataChannel("r", { negotiated: true, id: 0, ...init });
  a.onicecandidate = (e: Any) => e.candidate && b.addIceCandidate(e.candidate).catch(() => {});
  b.onicecandidate = (e: Any) => e.candidate && a.addIceCandidate(e.candidate).catch(() => {});
  const open = Promise.all([ca, cb].map((c) => new Promise((r) => c.onopen = r)));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await open;
  return { a, b, ca, cb };
}

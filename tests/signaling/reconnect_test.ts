/**
 * How the lobby clients choose between an ICE restart and a replacement (signaling/_reconnect.ts),
 * on descriptions made by the real stacks: node-datachannel's connections say they cannot restart
 * ICE and their SDP (origin `o=rtc`) keeps a libwebrtc peer from offering them a restart; an offer
 * with the same DTLS fingerprint is a renegotiation, a fresh connection's is not.
 */
import { assert, assertEquals } from "@std/assert";
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import type { SignalingPeerConnection } from "../../adapters/loopback.ts";
import { canRestartIce, isIceRestart } from "../../signaling/_reconnect.ts";

async function offerOf(): Promise<string> {
  const pc = createPeerConnection();
  const channel = pc.createDataChannel("x", { negotiated: true, id: 1 });
  try {
    const offer = await pc.createOffer();
    return offer.sdp as string;
  } finally {
    await closed(pc, channel);
  }
}

/**
 * Closes a node-datachannel connection and waits for its channel's `close` and its native close: a
 * process that exits before them dies with SIGSEGV (as `whenClosed()` says for meshes).
 */
async function closed(
  pc: ReturnType<typeof createPeerConnection>,
  channel?: { addEventListener(type: string, listener: () => void): void; readyState: string },
): Promise<void> {
  const channelClosed = new Promise<void>((resolve) => {
    if (channel === undefined || channel.readyState === "closed") resolve();
    else channel.addEventListener("close", () => resolve());
  });
  pc.close();
  await channelClosed;
  await pc.whenNativeClosed?.();
}

/** A connection whose remote description is `sdp` (the shape the session reads). */
function withRemote(sdp: string, canRestart?: boolean): SignalingPeerConnection {
  return {
    remoteDescription: { type: "offer", sdp },
    ...(canRestart === undefined ? {} : { canRestartIce: canRestart }),
  } as unknown as SignalingPeerConnection;
}

const LIBWEBRTC_OFFER = [
  "v=0",
  "o=- 1904594464063550122 2 IN IP4 127.0.0.1",
  "a=ice-ufrag:6DAi",
  "a=fingerprint:sha-256 8C:50:4E:B0",
  "",
].join("\r\n");

Deno.test("reconnect choice: node-datachannel cannot restart ICE, nor be offered a restart", async () => {
  const pc = createPeerConnection();
  try {
    assertEquals(pc.canRestartIce, false);
  } finally {
    await closed(pc);
  }
  const ndcOffer = await offerOf();
  assert(/^o=rtc /m.test(ndcOffer), ndcOffer);
  // A libwebrtc side facing a libdatachannel peer replaces; facing libwebrtc it restarts.
  assertEquals(canRestartIce(withRemote(ndcOffer)), false);
  assertEquals(canRestartIce(withRemote(LIBWEBRTC_OFFER)), true);
  assertEquals(canRestartIce(withRemote(LIBWEBRTC_OFFER, false)), false, "our stack cannot");
  assertEquals(canRestartIce(withRemote("")), false, "no remote description yet");
});

Deno.test("reconnect choice: the same DTLS fingerprint is a renegotiation, a new one a fresh connection", async () => {
  const [first, fresh] = [await offerOf(), await offerOf()];
  const restart = first.replace(/a=ice-ufrag:\S+/, "a=ice-ufrag:NEW1");
  assert(restart !== first);
  assertEquals(isIceRestart(withRemote(first), restart), true);
  assertEquals(isIceRestart(withRemote(first), fresh), false, "a fresh connection's certificate");
  assertEquals(isIceRestart(withRemote(""), restart), false);
});

/// <reference lib="dom" />
/**
 * Bundled into a blank Chromium page by `godot4_browser_test.ts` (not a test file): a Godot 4
 * client on the browser's own `RTCPeerConnection`, driven from the test through `globalThis.g4`.
 *
 * @module
 */
import { createPeerConnection } from "../../adapters/browser.ts";
import type { IceCandidateLike } from "../../adapters/loopback.ts";
import { TransferMode, WebRTCMultiplayerPeer } from "../../effects/multiplayer_peer.ts";

const peer = new WebRTCMultiplayerPeer();
const pc = createPeerConnection();
const candidates: IceCandidateLike[] = [];
const signals: string[] = [];
pc.addEventListener("icecandidate", (e) => {
  const c = (e as RTCPeerConnectionIceEvent).candidate;
  if (c?.candidate) candidates.push(c.toJSON() as IceCandidateLike);
});
for (const name of ["peer_connected", "connected_to_server", "peer_disconnected"]) {
  peer.addEventListener(name, (e) => {
    const d = (e as CustomEvent).detail;
    signals.push(d == null ? name : `${name}(${d})`); // Chromium: a missing detail is null
  });
}

(globalThis as unknown as { g4: unknown }).g4 = {
  /** createClient(id, [RELIABLE, UNRELIABLE]), addPeer(pc, 1, lifetime), and the offer. */
  async start(id: number, lifetime: number): Promise<string> {
    const e1 = peer.createClient(id, [TransferMode.RELIABLE, TransferMode.UNRELIABLE]);
    const e2 = peer.addPeer(pc, 1, lifetime);
    if (e1 !== 0 || e2 !== 0) throw new Error(peer.lastError.message);
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription!.sdp!;
  },
  async answer(sdp: string): Promise<void> {
    await pc.setRemoteDescription({ type: "answer", sdp });
  },
  async addCandidate(c: IceCandidateLike): Promise<void> {
    await pc.addIceCandidate(c);
  },
  /** Candidates gathered since the last call. */
  takeCandidates: (): IceCandidateLike[] => candidates.splice(0),
  status: () => peer.getConnectionStatus(),
  signals: () => signals,
  /** The channels of peer 1 as Chromium's channel objects report them. */
  channels: () =>
    peer.getPeer(1)?.channels.map((c) => [
      c.label,
      c.id,
      c.ordered,
      c.maxPacketLifeTime,
      c.readyState,
    ]),
  /** Every queued packet with what the peek getters said before reading it. */
  drain: () => {
    const out: Array<[number, number, number, number[]]> = [];
    while (peer.getAvailablePacketCount() > 0) {
      const meta = [peer.getPacketPeer(), peer.getPacketChannel(), peer.getPacketMode()];
      out.push([meta[0], meta[1], meta[2], [...peer.getPacket()!]]);
    }
    return out;
  },
  send: (channel: number, bytes: number[]) => {
    peer.transferChannel = channel;
    return peer.putPacket(new Uint8Array(bytes));
  },
  close: () => peer.close(),
};

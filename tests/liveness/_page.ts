/**
 * The browser side of the Chromium liveness tests, bundled by esbuild and injected into a blank
 * page: one mesh over the browser's own `RTCPeerConnection`, driven from the test through
 * `globalThis.lv`. Not a test file.
 *
 * @module
 */
import { createPeerConnection } from "../../adapters/browser.ts";
import { GodotError } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";

const mesh = new WebRTCMultiplayer({ highWaterMark: 1 << 20 });
const events: string[] = [];
const candidates: Array<{ candidate: string; sdpMid?: string | null }> = [];
let pc: ReturnType<typeof createPeerConnection> | undefined;
let busy = false;
let received = 0;
for (const name of ["peer_connected", "peer_disconnected"]) {
  mesh.addEventListener(
    name,
    (e) => events.push(`${name}(${(e as CustomEvent).detail})@${Date.now()}`),
  );
}
(async () => {
  for await (const _ of mesh.packets()) received++;
})();

Object.assign(globalThis, {
  lv: {
    async answer(ownId: number, remoteId: number, sdp: string): Promise<string> {
      mesh.initialize(ownId);
      pc = createPeerConnection();
      pc.addEventListener("icecandidate", (e) => {
        const c = (e as RTCPeerConnectionIceEvent).candidate;
        if (c?.candidate) candidates.push({ candidate: c.candidate, sdpMid: c.sdpMid });
      });
      if (mesh.addPeer(pc, remoteId) !== GodotError.OK) throw new Error(mesh.lastError.message);
      await pc.setRemoteDescription({ type: "offer", sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      return pc.localDescription!.sdp!;
    },
    async addCandidate(c: { candidate: string; sdpMid?: string }) {
      await pc!.addIceCandidate(c);
    },
    takeCandidates() {
      return candidates.splice(0);
    },
    state() {
      return { events, received, departure: mesh.stats().peers.get(1)?.departure };
    },
    startSending() {
      busy = true;
      const payload = new Uint8Array(4096);
      const loop = () => {
        if (!busy) return;
        const r = mesh.putPacket(payload);
        setTimeout(loop, r === GodotError.OK ? 0 : 2);
      };
      loop();
    },
  },
});

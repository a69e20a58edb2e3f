/// <reference lib="dom" />
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

/** A Godot-shaped peer: a plain connection with exactly channels 1-3 and no mesh. */
const godot = {
  pc: undefined as RTCPeerConnection | undefined,
  channels: [] as RTCDataChannel[],
  got: [[], [], []] as string[][],
  surprises: [] as string[],
};
const hex = (b: ArrayBuffer) =>
  [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

Object.assign(globalThis, {
  godot: {
    async answer(sdp: string): Promise<string> {
      const pc = new RTCPeerConnection();
      godot.pc = pc;
      pc.addEventListener("icecandidate", (e) => {
        if (e.candidate?.candidate) {
          candidates.push({ candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid });
        }
      });
      pc.addEventListener("datachannel", () => godot.surprises.push("datachannel"));
      const inits: RTCDataChannelInit[] = [
        { negotiated: true, id: 1, ordered: true },
        { negotiated: true, id: 2, ordered: true, maxPacketLifeTime: 1 },
        { negotiated: true, id: 3, ordered: false, maxPacketLifeTime: 1 },
      ];
      godot.channels = inits.map((init, i) => {
        const ch = pc.createDataChannel(["reliable", "ordered", "unreliable"][i], init);
        ch.binaryType = "arraybuffer";
        ch.onmessage = (e) => godot.got[i].push(hex(e.data));
        ch.onerror = () => godot.surprises.push(`error on ${i + 1}`);
        ch.onclose = () => godot.surprises.push(`close of ${i + 1}`);
        return ch;
      });
      await pc.setRemoteDescription({ type: "offer", sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      return pc.localDescription!.sdp;
    },
    async addCandidate(c: { candidate: string; sdpMid?: string }) {
      await godot.pc!.addIceCandidate(c);
    },
    send(n: number) {
      const bytes = new Uint8Array(1 + (n % 200)).fill(n & 255);
      godot.channels[0].send(bytes);
    },
    state() {
      return {
        open: godot.channels.map((c) => c.readyState),
        got: godot.got,
        surprises: godot.surprises,
        connection: godot.pc?.connectionState,
      };
    },
  },
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
    /** The offering side (for a child process that answers): returns the offer's SDP. */
    async offer(ownId: number, remoteId: number): Promise<string> {
      mesh.initialize(ownId);
      pc = createPeerConnection();
      pc.addEventListener("icecandidate", (e) => {
        const c = (e as RTCPeerConnectionIceEvent).candidate;
        if (c?.candidate) candidates.push({ candidate: c.candidate, sdpMid: c.sdpMid });
      });
      if (mesh.addPeer(pc, remoteId) !== GodotError.OK) throw new Error(mesh.lastError.message);
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription!.sdp!;
    },
    async applyAnswer(sdp: string) {
      await pc!.setRemoteDescription({ type: "answer", sdp });
    },
    async addCandidate(c: { candidate: string; sdpMid?: string }) {
      await pc!.addIceCandidate(c);
    },
    takeCandidates() {
      return candidates.splice(0);
    },
    state() {
      const remote = [...mesh.getPeers().keys()][0] ?? 1;
      return { events, received, departure: mesh.stats().peers.get(remote)?.departure };
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

/**
 * Crash detection: a peer process (tests/reliability/_peer_process.ts, on the stack under test)
 * is killed with SIGKILL while both sides send; the time until the mesh reports
 * `peer_disconnected` is measured with the surviving mesh's liveness off (what the stack gives on its
 * own) or on (its defaults: docs/liveness.md).
 *
 * @module
 */
import { WebRTCMultiplayer } from "../effects/multiplayer.ts";
import { spawnChildPeer } from "../tests/reliability/_child.ts";
import { sleep, until } from "./_net.ts";

/** Seconds from SIGKILL to `peer_disconnected`, once per run. */
export async function crashDetection(
  runs: number,
  liveness: boolean,
  timeoutMs = 60000,
): Promise<number[]> {
  const seconds: number[] = [];
  for (let r = 0; r < runs; r++) {
    const mesh = new WebRTCMultiplayer(liveness ? {} : { liveness: false });
    mesh.initialize(1);
    const child = await spawnChildPeer(mesh, 1, 2);
    try {
      await child.connected;
      if (!await until(() => mesh.getPeer(2)?.connected === true, 15000)) {
        throw new Error("crash detection: the child peer never connected");
      }
      const gone = new Promise<number>((resolve) =>
        mesh.addEventListener("peer_disconnected", () => resolve(performance.now()))
      );
      await sleep(500);
      const killedAt = performance.now();
      child.process.kill("SIGKILL");
      await child.process.status;
      let sending = true;
      const sender = (async () => {
        while (sending) {
          mesh.putPacket(new Uint8Array(64));
          await sleep(50);
        }
      })();
      const at = await Promise.race([gone, sleep(timeoutMs).then(() => NaN)]);
      sending = false;
      await sender;
      seconds.push((at - killedAt) / 1000);
    } finally {
      mesh.close();
      await mesh.whenClosed();
      await child.stderr;
    }
  }
  return seconds;
}

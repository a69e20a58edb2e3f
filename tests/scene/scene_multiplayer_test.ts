/**
 * `SceneMultiplayer` over `WebRTCMultiplayerPeer` on real node-datachannel connections in one
 * process (pairs negotiated by `connectPair`): the whole scenario of `_scenario.ts`.
 */
import { closeAll, cluster4, link } from "../_mesh.ts";
import { attach, exercise } from "./_scenario.ts";

Deno.test("SceneMultiplayer in one process: auth, relay, bytes, RPCs of every type, timeout, leaving", async () => {
  const c = cluster4([
    [1, (p) => p.createServer()],
    [2, (p) => p.createClient(2)],
    [3, (p) => p.createClient(3)],
    [4, (p) => p.createClient(4)],
    [5, (p) => p.createClient(5)],
  ]);
  const server = attach(c.meshes.get(1)!, { authTimeout: 1500 });
  const clients = [2, 3, 4].map((id) => attach(c.meshes.get(id)!, { password: "open sesame" }));
  const intruder = attach(c.meshes.get(5)!, { password: "let me in" });
  try {
    await Promise.all([2, 3, 4, 5].map((id) => link(c, 1, id)));
    await exercise(server, clients, intruder, (side) => side.peer.close());
  } finally {
    for (const s of [server, intruder, ...clients]) s.mp.close();
    await closeAll(c);
  }
});

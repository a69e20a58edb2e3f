/**
 * `SceneMultiplayer` end to end over the Godot 4 signaling server and client, on real
 * node-datachannel connections: a TS server (the lobby's host, peer 1) with authentication and
 * three TS clients plus an intruder in a client/server lobby; the whole scenario of
 * `_scenario.ts`.
 */
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { attach, exercise, type Side } from "./_scenario.ts";

Deno.test("SceneMultiplayer over the Godot 4 client/server lobby: the whole scenario", async () => {
  const signaling = await serveSignalingDeno({ port: 0 });
  const sessions = new Map<Side, Godot4LobbyClient>();
  const sides: Side[] = [];
  try {
    const host = await joinLobbyGodot4(signaling.url, "", {
      createPeerConnection,
      clientServer: true,
    });
    const server = attach(host.peer, { authTimeout: 1500 });
    sessions.set(server, host);
    sides.push(server);
    const join = async (password: string) => {
      const session = await joinLobbyGodot4(signaling.url, host.lobby, { createPeerConnection });
      const side = attach(session.peer, { password });
      sessions.set(side, session);
      sides.push(side);
      return side;
    };
    const clients = [
      await join("open sesame"),
      await join("open sesame"),
      await join("open sesame"),
    ];
    const intruder = await join("let me in");
    await exercise(server, clients, intruder, async (side) => {
      side.mp.close();
      await sessions.get(side)!.close();
    });
  } finally {
    for (const s of sides) s.mp.close();
    for (const session of sessions.values()) {
      await session.close();
      await session.peer.whenClosed();
    }
    await signaling.shutdown();
  }
});

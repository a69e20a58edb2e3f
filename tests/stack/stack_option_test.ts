/**
 * The signaling clients' `stack` option (the shared session layer's, so both protocols have it):
 * a Godot 4 client on libwebrtc (`joinLobbyGodot4(…, { stack: "wrtc" })`) and a Godot 3 one
 * (`joinLobby(…, { stack: "wrtc" })`) join lobbies of their protocol whose host is on
 * node-datachannel, form
 * the mesh and trade packets both ways. The connections are checked to be of the named stack.
 */
import { assert, assertEquals } from "@std/assert";
import wrtc from "@roamhq/wrtc";
import { TransferMode } from "../../core/constants.ts";
import { joinLobby, LobbyClient } from "../../signaling/client.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { until } from "../signaling/_raw.ts";

const LibWebRtc = (wrtc as unknown as { RTCPeerConnection: new () => unknown }).RTCPeerConnection;
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

type Client = LobbyClient | Godot4LobbyClient;
const api = (c: Client) => c instanceof LobbyClient ? c.mesh : c.peer;

/** Whether `c`'s connection to peer `id` is a libwebrtc one. */
const onLibWebRtc = (c: Client, id: number) => api(c).getPeer(id)?.connection instanceof LibWebRtc;

/** Both clients connected to each other; each sends one packet; each receives the other's. */
async function trade(a: Client, b: Client): Promise<void> {
  await until(
    () => api(a).getPeer(b.id)?.connected === true && api(b).getPeer(a.id)?.connected === true,
    15000,
    "the two peers connected",
  );
  for (const c of [a, b]) {
    api(c).transferMode = TransferMode.RELIABLE;
    api(c).putPacket(text(`from ${c.id}`));
  }
  const got = new Map<number, string[]>([[a.id, []], [b.id, []]]);
  await until(
    () => {
      for (const c of [a, b]) {
        while (api(c).getAvailablePacketCount() > 0) {
          const from = api(c).getPacketPeer();
          got.get(c.id)!.push(`${from}:${str(api(c).getPacket()!)}`);
        }
      }
      return [...got.values()].every((g) => g.length === 1);
    },
    5000,
    "packets",
  );
  assertEquals(got.get(a.id), [`${b.id}:from ${b.id}`]);
  assertEquals(got.get(b.id), [`${a.id}:from ${a.id}`]);
}

async function closeAll(clients: Client[], server: { shutdown(): Promise<void> }): Promise<void> {
  for (const c of clients) await c.close();
  await Promise.all(clients.map((c) => api(c).whenClosed()));
  await server.shutdown();
  // Lets libwebrtc finish closing before the test ends (see README "Reliability").
  await new Promise((r) => setTimeout(r, 0));
}

Deno.test("stack option: joinLobbyGodot4 with stack wrtc connects to an ndc Godot 4 peer", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const clients: Godot4LobbyClient[] = [];
  try {
    clients.push(await joinLobbyGodot4(server.url, "", { stack: "ndc" }));
    clients.push(await joinLobbyGodot4(server.url, clients[0].lobby, { stack: "wrtc" }));
    const [ndc, lib] = clients;
    await trade(ndc, lib);
    assert(onLibWebRtc(lib, ndc.id), "the wrtc client's connection is libwebrtc's");
    assert(!onLibWebRtc(ndc, lib.id), "the ndc client's connection is node-datachannel's");
  } finally {
    await closeAll(clients, server);
  }
});

Deno.test("stack option: joinLobby (Godot 3) with stack wrtc connects to an ndc Godot 3 host", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const clients: Client[] = [];
  try {
    const host = await joinLobby(server.url, "", { stack: "ndc" });
    clients.push(host);
    const g3 = await joinLobby(server.url, host.lobby, { stack: "wrtc" });
    clients.push(g3);
    await trade(host, g3);
    assert(onLibWebRtc(g3, host.id), "the wrtc client's connection is libwebrtc's");
    assert(!onLibWebRtc(host, g3.id), "the ndc host's connection is node-datachannel's");
  } finally {
    await closeAll(clients, server);
  }
});

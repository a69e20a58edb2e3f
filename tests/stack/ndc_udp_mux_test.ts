/**
 * The node-datachannel adapter's settings for a server with many connections: `iceUdpMux` puts
 * every connection that sets it on one UDP socket (libjuice's mux mode), `portRange` bounds the
 * port. Real connections on loopback: the server's ends share one port, the clients' ends each
 * have their own, and messages flow both ways on every pair.
 */
import { assert, assertEquals } from "@std/assert";
import { connectPair, createPeerConnection } from "../../adapters/node_datachannel.ts";
import { readSelectedPair } from "../../effects/candidate_pair.ts";

/** The polyfill's channel, as much of it as this test uses. */
interface Channel {
  send(data: string): void;
  addEventListener(type: string, fn: (e: Event) => void, options?: { once: boolean }): void;
}

/** Opens a negotiated channel on both ends; resolves with both once open. */
async function channelPair(
  a: ReturnType<typeof createPeerConnection>,
  b: ReturnType<typeof createPeerConnection>,
): Promise<[Channel, Channel]> {
  const ca = a.createDataChannel("t", { negotiated: true, id: 0 }) as unknown as Channel;
  const cb = b.createDataChannel("t", { negotiated: true, id: 0 }) as unknown as Channel;
  const open = (c: Channel) =>
    new Promise<void>((r) => c.addEventListener("open", () => r(), { once: true }));
  await Promise.all([connectPair(b, a), open(ca), open(cb)]);
  return [ca, cb];
}

/** The next message on `c`, as text. */
function nextMessage(c: Channel): Promise<string> {
  return new Promise((r) =>
    c.addEventListener("message", (e) => r(String((e as MessageEvent).data)), { once: true })
  );
}

Deno.test("iceUdpMux: a server's connections share one UDP port within portRange", async () => {
  const range: [number, number] = [47_000 + Math.floor(Math.random() * 1000), 0];
  range[1] = range[0] + 20;
  const servers = [0, 1, 2].map(() => createPeerConnection({ iceUdpMux: true, portRange: range }));
  const clients = [0, 1, 2].map(() => createPeerConnection());
  const channels: Channel[] = [];
  try {
    const pairs = await Promise.all(servers.map((s, i) => channelPair(s, clients[i])));
    channels.push(...pairs.flat());
    for (const [i, [sc, cc]] of pairs.entries()) {
      const atClient = nextMessage(cc);
      sc.send(`to ${i}`);
      assertEquals(await atClient, `to ${i}`);
      const atServer = nextMessage(sc);
      cc.send(`from ${i}`);
      assertEquals(await atServer, `from ${i}`);
    }
    const serverPorts = await Promise.all(
      servers.map(async (s) => (await readSelectedPair(s))?.local.port),
    );
    const clientPorts = await Promise.all(
      clients.map(async (c) => (await readSelectedPair(c))?.local.port),
    );
    assertEquals(new Set(serverPorts).size, 1, `server ports ${serverPorts}`);
    assert(serverPorts[0]! >= range[0] && serverPorts[0]! <= range[1], `port ${serverPorts[0]}`);
    assertEquals(new Set(clientPorts).size, 3, `client ports ${clientPorts}`);
  } finally {
    // As bench/_net.ts closeRaw does: close the connections, then wait for every channel's close
    // and the native closes; a process that exits while libdatachannel still delivers those on its
    // threads crashes (SIGSEGV).
    const closed = channels.map((c) =>
      Promise.race([
        new Promise<void>((r) => c.addEventListener("close", () => r(), { once: true })),
        new Promise<void>((r) => setTimeout(r, 3000)),
      ])
    );
    for (const pc of [...servers, ...clients]) pc.close();
    await Promise.all(closed);
    await Promise.all(
      [...servers, ...clients].map((pc) =>
        (pc as unknown as { whenNativeClosed(): Promise<void> }).whenNativeClosed()
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
  }
});

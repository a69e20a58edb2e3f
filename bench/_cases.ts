/**
 * The network benchmarks: each measures the mesh and the raw stack under test in the same process,
 * back to back, with the same payloads and the same flow control.
 *
 * @module
 */
import { TransferMode, WebRTCMultiplayer } from "../effects/multiplayer.ts";
import { connectPair, createPeerConnection } from "../tests/_stack.ts";
import {
  closeMeshes,
  closeRaw,
  meshConnected,
  meshPair,
  pump,
  type RawChannel,
  rawChannels,
  rawPair,
  rawReady,
  sleep,
  until,
} from "./_net.ts";

/** Messages and bytes per second of one run. */
export interface Rate {
  readonly msgsPerSec: number;
  readonly mbPerSec: number;
}

const MB = 1e6;

function rate(count: number, size: number, ms: number): Rate {
  return { msgsPerSec: count / (ms / 1000), mbPerSec: (count * size) / MB / (ms / 1000) };
}

/** How the mesh side reads: the `packets()` iterator or a `getPacket()` drain on message events. */
export type ReadStyle = "packets" | "drain";

/** Throughput of one pair on the reliable channel, raw and mesh (each read style), `rounds` times. */
export async function throughput(
  seconds: number,
  size: number,
  rounds: number,
): Promise<{ raw: Rate[]; packets: Rate[]; drain: Rate[] }> {
  const payload = new Uint8Array(size).fill(7);
  const raw = await rawPair();
  const mesh = await meshPair();
  const out = { raw: [] as Rate[], packets: [] as Rate[], drain: [] as Rate[] };
  // Reader of the mesh side b: either a packets() loop or a drain of getPacket on each message.
  let received = 0;
  const rawOn = () => received++;
  raw.cb[0].addEventListener("message", rawOn);
  const meshChannelB = mesh.b.getPeer(1)!.channels[0] as unknown as EventTarget;
  const meshChannelA = mesh.a.getPeer(2)!.channels[0] as unknown as RawChannel;
  const drain = () => {
    while (mesh.b.getPacket() !== undefined) received++;
  };
  const runRaw = async () => {
    received = 0;
    const t0 = performance.now();
    await pump([raw.ca[0]], () => raw.ca[0].send(payload), t0 + seconds * 1000);
    const got = received;
    const ms = performance.now() - t0;
    await until(() => raw.ca[0].bufferedAmount === 0, 5000);
    await sleep(50);
    return rate(got, size, ms);
  };
  const runMesh = async (style: ReadStyle) => {
    received = 0;
    const stop = new AbortController();
    let reader: Promise<void> = Promise.resolve();
    if (style === "packets") {
      reader = (async () => {
        for await (const _ of mesh.b.packets(stop.signal)) received++;
      })();
    } else meshChannelB.addEventListener("message", drain);
    mesh.a.targetPeer = 2;
    mesh.a.transferMode = TransferMode.RELIABLE;
    const t0 = performance.now();
    await pump([meshChannelA], () => mesh.a.putPacket(payload), t0 + seconds * 1000);
    const got = received;
    const ms = performance.now() - t0;
    await until(() => meshChannelA.bufferedAmount === 0, 5000);
    await sleep(50);
    stop.abort();
    await reader;
    meshChannelB.removeEventListener("message", drain);
    while (mesh.b.getPacket() !== undefined) { /* discard leftovers */ }
    return rate(got, size, ms);
  };
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so drift (thermal, other load) hits both sides alike.
    if (r % 2 === 0) {
      out.raw.push(await runRaw());
      out.packets.push(await runMesh("packets"));
      out.drain.push(await runMesh("drain"));
    } else {
      out.drain.push(await runMesh("drain"));
      out.packets.push(await runMesh("packets"));
      out.raw.push(await runRaw());
    }
  }
  raw.cb[0].removeEventListener("message", rawOn);
  await closeMeshes([mesh.a, mesh.b]);
  await closeRaw([raw.a, raw.b], [...raw.ca, ...raw.cb]);
  return out;
}

/** Round-trip times in microseconds, plus how many pings were lost (unreliable channel). */
export interface Rtts {
  readonly us: number[];
  readonly lost: number;
}

const LOST_MS = 200;

/** Ping-pong `count` round trips of `size` bytes on channel `index` (0 reliable, 2 unreliable). */
export async function latency(
  count: number,
  size: number,
  index: 0 | 2,
  blocks: number,
): Promise<{ raw: Rtts; packets: Rtts; drain: Rtts }> {
  const payload = new Uint8Array(size).fill(1);
  const raw = await rawPair();
  const mesh = await meshPair();
  const mode = index === 0 ? TransferMode.RELIABLE : TransferMode.UNRELIABLE;
  mesh.a.transferMode = mode;
  mesh.b.transferMode = mode;
  mesh.a.targetPeer = 2;
  mesh.b.targetPeer = 1;
  const echoRaw = (e: Event) => raw.cb[index].send(new Uint8Array((e as MessageEvent).data));
  raw.cb[index].addEventListener("message", echoRaw);

  /** Runs `n` pings; `send` sends one, `arm(cb)` makes cb run on each pong; returns RTTs. */
  const pingPong = (
    n: number,
    send: () => void,
    arm: (onPong: () => void) => () => void,
  ): Promise<Rtts> =>
    new Promise((resolve) => {
      const us: number[] = [];
      let lost = 0;
      let t0 = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const next = () => {
        if (us.length + lost >= n) {
          disarm();
          resolve({ us, lost });
          return;
        }
        t0 = performance.now();
        timer = setTimeout(() => {
          lost++;
          next();
        }, LOST_MS);
        send();
      };
      const disarm = arm(() => {
        clearTimeout(timer);
        us.push((performance.now() - t0) * 1000);
        next();
      });
      next();
    });

  const runRaw = (n: number) =>
    pingPong(n, () => raw.ca[index].send(payload), (onPong) => {
      raw.ca[index].addEventListener("message", onPong);
      return () => raw.ca[index].removeEventListener("message", onPong);
    });
  const runPackets = (n: number) =>
    pingPong(n, () => mesh.a.putPacket(payload), (onPong) => {
      const stop = new AbortController();
      (async () => {
        for await (const p of mesh.a.packets(stop.signal)) {
          void p;
          onPong();
        }
      })();
      return () => stop.abort();
    });
  const runDrain = (n: number) =>
    pingPong(n, () => mesh.a.putPacket(payload), (onPong) => {
      const ch = mesh.a.getPeer(2)!.channels[index] as unknown as EventTarget;
      const on = () => {
        while (mesh.a.getPacket() !== undefined) onPong();
      };
      ch.addEventListener("message", on);
      return () => ch.removeEventListener("message", on);
    });
  // The echoing side b reads with packets() (it is the same in both mesh styles).
  const stopEcho = new AbortController();
  const echo = (async () => {
    for await (const p of mesh.b.packets(stopEcho.signal)) mesh.b.putPacket(p.data);
  })();

  const all = { raw: { us: [] as number[], lost: 0 }, packets: { us: [] as number[], lost: 0 } };
  const drainAll = { us: [] as number[], lost: 0 };
  const per = Math.ceil(count / blocks);
  const add = (into: { us: number[]; lost: number }, r: Rtts) => {
    into.us.push(...r.us);
    into.lost += r.lost;
  };
  // Warm-up, then interleaved blocks.
  await runRaw(200);
  await runPackets(200);
  await runDrain(200);
  for (let b = 0; b < blocks; b++) {
    add(all.raw, await runRaw(per));
    add(all.packets, await runPackets(per));
    add(drainAll, await runDrain(per));
  }
  stopEcho.abort();
  await echo;
  raw.cb[index].removeEventListener("message", echoRaw);
  await closeMeshes([mesh.a, mesh.b]);
  await closeRaw([raw.a, raw.b], [...raw.ca, ...raw.cb]);
  return { raw: all.raw, packets: all.packets, drain: drainAll };
}

/** Broadcast from one sender to `receivers` peers: delivered messages per second, raw and mesh. */
export async function broadcast(
  receivers: number,
  seconds: number,
  size: number,
  rounds: number,
): Promise<{ raw: Rate[]; mesh: Rate[] }> {
  const payload = new Uint8Array(size).fill(3);
  let received = 0;
  const count = () => received++;
  // Raw: the sender holds one connection per receiver.
  const raws = [];
  for (let i = 0; i < receivers; i++) raws.push(await rawPair());
  for (const r of raws) r.cb[0].addEventListener("message", count);
  // Mesh: sender 1, receivers 2..receivers+1, each receiver reads with packets().
  const sender = new WebRTCMultiplayer();
  sender.initialize(1);
  const rx: WebRTCMultiplayer[] = [];
  for (let i = 0; i < receivers; i++) {
    const m = new WebRTCMultiplayer();
    m.initialize(i + 2);
    const ps = createPeerConnection();
    const pr = createPeerConnection();
    const ready = Promise.all([meshConnected(sender, [i + 2]), meshConnected(m, [1])]);
    sender.addPeer(ps, i + 2);
    m.addPeer(pr, 1);
    await connectPair(ps, pr);
    await ready;
    rx.push(m);
  }
  const stop = new AbortController();
  const readers = rx.map(async (m) => {
    for await (const _ of m.packets(stop.signal)) received++;
  });
  sender.targetPeer = 0;
  sender.transferMode = TransferMode.RELIABLE;
  const senderChannels = [...sender.getPeers().values()].map((p) =>
    p.channels[0] as unknown as RawChannel
  );
  const rawChannelsA = raws.map((r) => r.ca[0]);
  const out = { raw: [] as Rate[], mesh: [] as Rate[] };
  const run = async (chs: RawChannel[], send: () => void) => {
    received = 0;
    const t0 = performance.now();
    await pump(chs, send, t0 + seconds * 1000);
    const got = received;
    const ms = performance.now() - t0;
    await until(() => chs.every((c) => c.bufferedAmount === 0), 5000);
    await sleep(50);
    return rate(got, size, ms);
  };
  const runRaw = () =>
    run(rawChannelsA, () => {
      for (let i = 0; i < rawChannelsA.length; i++) rawChannelsA[i].send(payload);
    });
  const runMesh = () => run(senderChannels, () => sender.putPacket(payload));
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      out.raw.push(await runRaw());
      out.mesh.push(await runMesh());
    } else {
      out.mesh.push(await runMesh());
      out.raw.push(await runRaw());
    }
  }
  stop.abort();
  await Promise.all(readers);
  await closeMeshes([sender, ...rx]);
  await closeRaw(raws.flatMap((r) => [r.a, r.b]), raws.flatMap((r) => [...r.ca, ...r.cb]));
  return out;
}

/** One formation run: ms from the first addPeer (or createDataChannel) to fully connected. */
export interface Formation {
  readonly ms: number;
  /** RSS growth per peer connection object (bytes), measured when fully connected. */
  readonly rssPerConnection: number;
  /** Each pair's setup, ms from the start: until both ends announced (raw: both ready). */
  readonly pairMs: number[];
}

function rss(): number {
  return Deno.memoryUsage().rss;
}

/** Forms a full mesh of `n` meshes in-process. */
export async function formMesh(n: number): Promise<Formation> {
  const rss0 = rss();
  const meshes = Array.from({ length: n }, (_, i) => {
    const m = new WebRTCMultiplayer();
    m.initialize(i + 1);
    return m;
  });
  const pairs: [number, number][] = [];
  for (let i = 1; i <= n; i++) for (let j = i + 1; j <= n; j++) pairs.push([i, j]);
  const pcs = pairs.map(() => [createPeerConnection(), createPeerConnection()] as const);
  const done = Promise.all(
    meshes.map((m, i) =>
      meshConnected(m, Array.from({ length: n }, (_, k) => k + 1).filter((id) => id !== i + 1))
    ),
  );
  // announced[i][j]: when mesh i+1 announced peer j.
  const announced = meshes.map(() => new Map<number, number>());
  meshes.forEach((m, i) =>
    m.addEventListener("peer_connected", (e) => {
      announced[i].set((e as CustomEvent<number>).detail, performance.now());
    })
  );
  const t0 = performance.now();
  pairs.forEach(([i, j], k) => {
    meshes[i - 1].addPeer(pcs[k][0], j);
    meshes[j - 1].addPeer(pcs[k][1], i);
  });
  try {
    await Promise.all(pairs.map((_, k) => connectPair(pcs[k][0], pcs[k][1])));
  } catch (error) {
    await closeMeshes(meshes);
    throw error;
  }
  const ends = await done;
  const ms = Math.max(...ends) - t0;
  const grown = rss() - rss0;
  const pairMs = pairs.map(([i, j]) =>
    Math.max(announced[i - 1].get(j)!, announced[j - 1].get(i)!) - t0
  );
  await closeMeshes(meshes);
  return { ms, rssPerConnection: grown / (2 * pairs.length), pairMs };
}

/** Forms the raw equivalent: the same connections with the same three negotiated channels. */
export async function formRaw(n: number): Promise<Formation> {
  const rss0 = rss();
  const pairs: [number, number][] = [];
  for (let i = 1; i <= n; i++) for (let j = i + 1; j <= n; j++) pairs.push([i, j]);
  const pcs = pairs.map(() => [createPeerConnection(), createPeerConnection()] as const);
  const t0 = performance.now();
  const chans = pcs.map(([a, b]) => [rawChannels(a), rawChannels(b)] as const);
  const ready = Promise.all(
    pcs.map(([a, b], k) =>
      Promise.all([rawReady(a, chans[k][0]), rawReady(b, chans[k][1])]).then(() =>
        performance.now() - t0
      )
    ),
  );
  try {
    await Promise.all(pcs.map(([a, b]) => connectPair(a, b)));
  } catch (error) {
    await closeRaw(pcs.flat(), chans.flatMap(([x, y]) => [...x, ...y]));
    throw error;
  }
  const pairMs = await ready;
  const ms = performance.now() - t0;
  const grown = rss() - rss0;
  await closeRaw(pcs.flat(), chans.flatMap(([x, y]) => [...x, ...y]));
  return { ms, rssPerConnection: grown / (2 * pairs.length), pairMs };
}

/**
 * Reconnect under injected faults (core/reconnect.ts R3, R5, R7), on fake connections
 * (`_fake.ts`): a replacement whose `createDataChannel` throws, and a resend that waits for a
 * channel of the new connection while the journal overflows. Every removal of an announced peer
 * is reported, and nothing is lost silently. The real-stack replacement is
 * `tests/liveness/replace_test.ts`.
 */
import { assert, assertEquals } from "@std/assert";
import { GodotError, TransferMode, WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { WebRTCMultiplayerPeer } from "../../effects/multiplayer_peer.ts";
import { encodeBeacon } from "../../core/liveness.ts";
import { encodeCounts } from "../../core/reconnect.ts";
import { type FakeChannel, FakeConnection } from "./_fake.ts";

/** A beacon with our `counts` on `channel` (the peer's liveness channel), as the peer sends it. */
function beacon(channel: FakeChannel, kind: "hello" | "beat", counts: number[]): void {
  const bytes = encodeCounts(encodeBeacon(kind), counts);
  channel.dispatchEvent(new MessageEvent("message", { data: bytes.buffer }));
}

/** The liveness channel of a fake connection (made after the peer's other channels). */
function livenessOf(pc: FakeConnection): FakeChannel {
  const ch = pc.channels.find((c) => c.label === "webrtc-mesh-liveness");
  assert(ch !== undefined, "no liveness channel");
  return ch;
}

/** Signals as `name(peer)`. */
function record(target: EventTarget, names: string[]): string[] {
  const log: string[] = [];
  for (const name of names) {
    target.addEventListener(name, (e) => log.push(`${name}(${(e as CustomEvent).detail})`));
  }
  return log;
}

const SIGNALS = ["peer_connected", "peer_interrupted", "peer_resumed", "peer_disconnected"];

Deno.test("R3: createDataChannel throwing on a replacement connection removes the peer with peer_disconnected", () => {
  const mesh = new WebRTCMultiplayer({ reconnect: true, autoPoll: false });
  const log = record(mesh, SIGNALS);
  mesh.initialize(1);
  const old = new FakeConnection();
  assertEquals(mesh.addPeer(old, 2), GodotError.OK);
  old.connectAll();
  mesh.poll();
  beacon(livenessOf(old), "hello", [0]);
  mesh.poll();
  const fresh = new FakeConnection(1); // its second channel throws
  assertEquals(mesh.replacePeer(fresh, 2), GodotError.FAILED);
  assert(mesh.lastError.message.includes("SCTP stream limit reached"), mesh.lastError.message);
  assertEquals(log, ["peer_connected(2)", "peer_interrupted(2)", "peer_disconnected(2)"]);
  assertEquals(mesh.hasPeer(2), false);
  assert(old.closed, "the detached old connection is closed");
  assert(fresh.channels.every((c) => c.closed), "the new connection's channels are discarded");
  assertEquals(fresh.closed, false, "the caller's connection is the caller's to close");
  mesh.close();
});

/**
 * A Godot 4 mesh peer 1 with one extra RELIABLE channel (journaled lanes 0 and 3), peer 2 proven
 * with counts, then replaced: the new connection's liveness channel and reserved channels open,
 * the extra one does not yet, and the first beacon starts the resend.
 */
function resendWaiting(journalBytes: number) {
  const mesh = new WebRTCMultiplayerPeer({
    reconnect: { journalBytes },
    autoPoll: false,
  });
  const log = record(mesh, SIGNALS);
  assertEquals(mesh.createMesh(1, [TransferMode.RELIABLE]), GodotError.OK);
  const old = new FakeConnection();
  assertEquals(mesh.addPeer(old, 2), GodotError.OK);
  old.connectAll();
  mesh.poll();
  beacon(livenessOf(old), "hello", [0, 0]);
  mesh.poll();
  const send = (channel: number, n: number, size: number, from = 0) => {
    mesh.transferChannel = channel;
    for (let i = 0; i < n; i++) {
      const bytes = new Uint8Array(size);
      bytes[0] = channel;
      new DataView(bytes.buffer).setUint32(1, from + i);
      assertEquals(mesh.putPacket(bytes), GodotError.OK);
    }
  };
  // Ten messages on each lane that the peer never acknowledges, then the link breaks.
  send(0, 10, 100);
  send(1, 10, 100);
  const fresh = new FakeConnection();
  assertEquals(mesh.replacePeer(fresh, 2), GodotError.OK);
  fresh.become("connected");
  const extra = fresh.channels.find((c) => c.label === "4")!;
  for (const c of fresh.channels) if (c !== extra) c.fire("open", "open");
  mesh.poll();
  beacon(livenessOf(fresh), "hello", [0, 0]);
  mesh.poll();
  return { mesh, log, fresh, extra, send };
}

/** The sequence numbers sent on `channel` (first byte), in order. */
function seqs(sent: Uint8Array[], channel: number): number[] {
  return sent.filter((b) => b[0] === channel && b.byteLength >= 5).map((b) =>
    new DataView(b.buffer, b.byteOffset).getUint32(1)
  );
}

Deno.test("R5: packets held behind a resend on a lane already caught up go out once the resend ends, in order", () => {
  const { mesh, log, fresh, extra, send } = resendWaiting(1 << 20);
  assertEquals(log, ["peer_connected(2)", "peer_interrupted(2)", "peer_resumed(2)"]);
  const reliable = fresh.channels[0];
  assertEquals(seqs(reliable.sent, 0), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "lane 0 resent at once");
  send(0, 5, 100, 10); // held: the extra lane's resend is not done
  assertEquals(seqs(reliable.sent, 0).length, 10);
  extra.fire("open", "open");
  mesh.poll();
  assertEquals(seqs(extra.sent, 1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(seqs(reliable.sent, 0), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  send(0, 1, 100, 15); // sent at once now
  assertEquals(seqs(reliable.sent, 0).at(-1), 15);
  mesh.close();
});

Deno.test("R7: the journal overflowing while a resend waits for a channel removes the peer, reported", () => {
  const { mesh, log, send } = resendWaiting(65536);
  // 70 KiB more on the reserved channel, held behind the extra lane's resend: the bound drops the
  // extra lane's oldest messages, which the resend still owes.
  send(0, 70, 1024, 10);
  assertEquals(log, [
    "peer_connected(2)",
    "peer_interrupted(2)",
    "peer_resumed(2)",
    "peer_disconnected(2)",
  ]);
  assertEquals(mesh.hasPeer(2), false);
  mesh.close();
});

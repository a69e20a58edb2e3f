/**
 * The interpreter batches beacons (effects/_loop.ts, effects/_intake.ts): the beacons of one turn
 * are reduced together at its end, or at once before any later event, so events keep their order;
 * with `autoPoll: false` the beacons queued for `poll()` are reduced by it. Fake connections: the
 * test decides what arrives in one turn.
 */
import { assertEquals } from "@std/assert";
import { encodeBeacon } from "../../core/liveness.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { type FakeChannel, FakeConnection } from "./_fake.ts";

/** A mesh (peer 1) with `ids` connected over fake connections, their liveness channels open. */
function meshWith(ids: number[], autoPoll = true) {
  const mesh = new WebRTCMultiplayer({ autoPoll, liveness: { byeOnExit: false } });
  mesh.initialize(1);
  const liveness = new Map<number, FakeChannel>();
  for (const id of ids) {
    const pc = new FakeConnection();
    mesh.addPeer(pc, id);
    pc.connectAll();
    liveness.set(id, pc.channels.find((c) => c.id === 1023)!);
  }
  if (!autoPoll) mesh.poll();
  return { mesh, liveness };
}

function hello(channel: FakeChannel): void {
  channel.dispatchEvent(new MessageEvent("message", { data: encodeBeacon("hello").buffer }));
}

const departures = (mesh: WebRTCMultiplayer) =>
  [...mesh.stats().peers].map(([id, p]) => `${id}:${p.departure}`);

Deno.test("beacons of one turn are reduced together at its end, before any later event", async () => {
  const { mesh, liveness } = meshWith([2, 3, 4]);
  try {
    assertEquals(departures(mesh), ["2:probing", "3:probing", "4:probing"]);
    for (const id of [2, 3, 4]) hello(liveness.get(id)!);
    assertEquals(departures(mesh), ["2:probing", "3:probing", "4:probing"], "not yet: same turn");
    await Promise.resolve();
    assertEquals(departures(mesh), ["2:beacons", "3:beacons", "4:beacons"], "end of the turn");

    // A later event of the same turn (here a request) runs after the beacons that came first.
    const { mesh: other, liveness: ch } = meshWith([2, 3]);
    try {
      hello(ch.get(2)!);
      other.refuseNewConnections = true;
      assertEquals(departures(other), ["2:beacons", "3:probing"]);
    } finally {
      other.close();
    }
  } finally {
    mesh.close();
  }
});

Deno.test("autoPoll off: beacons wait for poll(), which reduces them in their place", () => {
  const { mesh, liveness } = meshWith([2, 3], false);
  try {
    hello(liveness.get(2)!);
    hello(liveness.get(3)!);
    assertEquals(departures(mesh), ["2:probing", "3:probing"]);
    mesh.poll();
    assertEquals(departures(mesh), ["2:beacons", "3:beacons"]);
  } finally {
    mesh.close();
  }
});

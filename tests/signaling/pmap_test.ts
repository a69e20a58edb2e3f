import { assertEquals, assertStrictEquals } from "@std/assert";
import fc from "fast-check";
import { PersistentMap, PersistentQueue } from "../../signaling/_pmap.ts";

type Op = { set: boolean; key: number | string; value: number };

const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 70 }), // dense small keys: deep paths shared
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  fc.integer({ min: -1000, max: -1 }),
  fc.constantFrom(0.5, 2 ** 40, -0, Number.MAX_SAFE_INTEGER),
  fc.string({ maxLength: 4 }),
);

Deno.test("PersistentMap: same answers as Map over random set/delete sequences; old versions unchanged", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ set: fc.boolean(), key: keyArb, value: fc.integer() }), {
        maxLength: 300,
      }),
      (ops: Op[]) => {
        let p = PersistentMap.empty<number | string, number>();
        const m = new Map<number | string, number>();
        const versions: [PersistentMap<number | string, number>, Map<number | string, number>][] =
          [];
        for (const op of ops) {
          if (op.set) {
            p = p.with(op.key, op.value);
            m.set(op.key, op.value);
          } else {
            const before = p;
            p = p.without(op.key);
            if (!m.has(op.key)) assertStrictEquals(p, before);
            m.delete(op.key);
          }
          versions.push([p, new Map(m)]);
          assertEquals(p.size, m.size);
          assertEquals(p.get(op.key), m.get(op.key));
          assertEquals(p.has(op.key), m.has(op.key));
        }
        for (const [pv, mv] of versions) {
          assertEquals(pv.size, mv.size);
          assertEquals(new Map(pv), mv);
          for (const k of mv.keys()) assertEquals(pv.get(k), mv.get(k));
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("PersistentMap: a number key, its string and a negative number coexist; PersistentQueue keeps order", () => {
  let p = PersistentMap.empty<number | string, string>();
  p = p.with(1, "n").with("1", "s").with(-1, "m");
  assertEquals([p.get(1), p.get("1"), p.get(-1), p.size], ["n", "s", "m", 3]);
  p = p.without("1");
  assertEquals([p.get(1), p.get("1"), p.size], ["n", undefined, 2]);
  let q = PersistentQueue.empty<number>();
  for (let i = 0; i < 100; i++) q = q.push(i);
  const old = q;
  for (let i = 0; i < 60; i++) q = q.shift();
  for (let i = 100; i < 130; i++) q = q.push(i);
  assertEquals([...q], Array.from({ length: 70 }, (_, i) => i + 60));
  assertEquals([q.first(), q.size, old.size, old.first()], [60, 70, 100, 0]);
  assertEquals(PersistentQueue.empty().shift().size, 0);
});

/**
 * The member ids' keyed permutation (`signaling/_ids.ts`): a bijection of every range, exhaustively
 * on small ranges and by samples on the protocols' real ranges, with its inverse.
 */
import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import {
  GODOT4_FIRST_ID,
  memberIdRange,
  permute,
  permutedMemberIds as ids,
  randomIdKey,
  unpermute,
} from "../../signaling/_ids.ts";

const key = fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 16, maxLength: 16 });

Deno.test("permute is a bijection of 0..size-1 with unpermute as its inverse: every size up to 1100, exhaustively", () => {
  fc.assert(
    fc.property(key, fc.integer({ min: 0, max: 1 }), (k, slot) => {
      for (let size = 1; size <= 1100; size += size < 70 ? 1 : 13) {
        const seen = new Uint8Array(size);
        for (let i = 0; i < size; i++) {
          const y = permute(k, slot, size, i);
          assert(Number.isInteger(y) && y >= 0 && y < size, `size ${size}: ${i} -> ${y}`);
          assertEquals(seen[y], 0, `size ${size}: ${y} twice`);
          seen[y] = 1;
          assertEquals(unpermute(k, slot, size, y), i);
        }
      }
    }),
    { numRuns: 20 },
  );
});

Deno.test("permute is a bijection on a full 2^20 domain and on 2^20 - 2 (cycle walking)", () => {
  const k = randomIdKey();
  for (const size of [2 ** 20, 2 ** 20 - 2]) {
    const seen = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const y = permute(k, 0, size, i);
      assert(y >= 0 && y < size && seen[y] === 0, `${size}: ${i} -> ${y}`);
      seen[y] = 1;
    }
  }
});

Deno.test("member ids on the real ranges: in range, inverse, distinct indices give distinct ids", () => {
  for (const protocol of ["godot3", "godot4"] as const) {
    const [low, high] = memberIdRange(protocol);
    const size = high - low + 1;
    fc.assert(
      fc.property(
        key,
        fc.integer({ min: 0, max: size - 1 }),
        fc.integer({ min: 0, max: size - 1 }),
        (k, a, b) => {
          const x = ids.nth(k, protocol, a);
          const y = ids.nth(k, protocol, b);
          assert(Number.isInteger(x) && x >= low && x <= high, `${protocol} ${a} -> ${x}`);
          assertEquals(ids.indexOf(k, protocol, x), a);
          assertEquals(ids.indexOf(k, protocol, y), b);
          assertEquals(x === y, a === b);
        },
      ),
      { numRuns: 2000 },
    );
    // Every id of the range is reached: indexOf of any id is a valid index (the ends too).
    fc.assert(
      fc.property(key, fc.integer({ min: low, max: high }), (k, id) => {
        const i = ids.indexOf(k, protocol, id);
        assert(i >= 0 && i < size);
        assertEquals(ids.nth(k, protocol, i), id);
      }),
      { numRuns: 2000 },
    );
    const k = randomIdKey();
    for (const id of [low, high]) {
      assertEquals(ids.nth(k, protocol, ids.indexOf(k, protocol, id)), id);
    }
  }
  assertEquals(memberIdRange("godot4")[0], GODOT4_FIRST_ID);
});

Deno.test("the first ids of a lobby look random: 10,000 of them spread over the Godot 3 range", () => {
  const k = ids.newKey();
  const buckets = new Array(16).fill(0);
  for (let i = 0; i < 10_000; i++) buckets[Math.floor(ids.nth(k, "godot3", i) / 2 ** 26)]++;
  // 625 expected per bucket; a sequence in order would fill one bucket.
  for (const n of buckets) assert(n > 450 && n < 800, `${buckets}`);
  // Two lobbies' keys give different sequences.
  const other = ids.newKey();
  assert([0, 1, 2].some((i) => ids.nth(k, "godot4", i) !== ids.nth(other, "godot4", i)));
});

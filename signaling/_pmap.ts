/**
 * A persistent (immutable) hash map: a hash array mapped trie. `with` and `without` return a new
 * map that shares all but the path to the changed key with the old one (at most 8 arrays of
 * at most 16 slots copied), so the pure lobby rules can change one connection per relayed frame without copying
 * every connection. It reads like a `ReadonlyMap`; iteration order is the trie's, not insertion
 * order.
 *
 * @module
 */

// Every slot has its kind in `t` (0 leaf, 1 branch, 2 collision): one monomorphic check per
// level, cheaper than testing for a property.
interface Leaf<K, V> {
  readonly t: 0;
  readonly hash: number;
  readonly key: K;
  readonly value: V;
}

interface Branch<K, V> {
  readonly t: 1;
  /** Which of the 2^BITS slots of this level are present. */
  readonly bitmap: number;
  /** The present slots in slot order: a leaf, a deeper branch, or colliding leaves. */
  readonly slots: readonly Slot<K, V>[];
}

/** Leaves whose hashes are equal (below the last level). */
interface Collision<K, V> {
  readonly t: 2;
  readonly collision: readonly Leaf<K, V>[];
}

type Slot<K, V> = Leaf<K, V> | Branch<K, V> | Collision<K, V>;

const EMPTY_BRANCH: Branch<never, never> = Object.freeze({ t: 1, bitmap: 0, slots: [] });
/**
 * Bits of the hash per level: 16 slots a branch. A change copies the branches on its path, so
 * narrower branches copy less: with 200 connections a relayed frame's change of its sender
 * allocated 499 bytes in the map at 32 slots, 421 at 16, 443 at 8 (more levels, more objects:
 * V8's sampling heap profiler over the relay step, Node 20, 2026-11-30).
 */
const BITS = 4;
const MASK = (1 << BITS) - 1;
/** Hashes have 30 bits ({@link hashOf}). */
const HASH_MASK = 0x3fffffff;
/** Past this shift a level has no hash bits left: equal hashes share a collision. */
const MAX_SHIFT = 30 - BITS;

/** A copy of `items` with `items[index]` replaced (`Array.prototype.with`, for older targets). */
function replaced<T>(items: readonly T[], index: number, item: T): T[] {
  const copy = items.slice();
  copy[index] = item;
  return copy;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * 30-bit hash: an integer in 0..2^30-1 is its own hash; strings and other numbers are hashed. 30
 * bits, so that a hash is always a small integer to V8 (a "Smi", even with pointer compression):
 * a larger one would be a boxed number, one more object in every leaf and in every lookup.
 */
function hashOf(key: unknown): number {
  if (typeof key === "number" && (key & HASH_MASK) === key) return key;
  const s = String(key);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h & HASH_MASK;
}

function isLeaf<K, V>(slot: Slot<K, V>): slot is Leaf<K, V> {
  return slot.t === 0;
}

function isBranch<K, V>(slot: Slot<K, V>): slot is Branch<K, V> {
  return slot.t === 1;
}

/** Two leaves with different keys in one branch (or a collision when their hashes are equal). */
function pairOf<K, V>(a: Leaf<K, V>, b: Leaf<K, V>, shift: number): Slot<K, V> {
  if (shift > MAX_SHIFT || a.hash === b.hash) return { t: 2, collision: [a, b] };
  const ia = (a.hash >>> shift) & MASK;
  const ib = (b.hash >>> shift) & MASK;
  if (ia === ib) return { t: 1, bitmap: 1 << ia, slots: [pairOf(a, b, shift + BITS)] };
  return ia < ib
    ? { t: 1, bitmap: (1 << ia) | (1 << ib), slots: [a, b] }
    : { t: 1, bitmap: (1 << ia) | (1 << ib), slots: [b, a] };
}

/** Whether the last {@link put} added a new key (a module flag: no object per call). */
let added = false;

/** Sets a leaf; sets {@link added} when the key was new. */
function put<K, V>(slot: Slot<K, V>, leaf: Leaf<K, V>, shift: number): Slot<K, V> {
  if (isLeaf(slot)) {
    if (slot.key === leaf.key) return leaf;
    added = true;
    return pairOf(slot, leaf, shift);
  }
  if (!isBranch(slot)) {
    const i = slot.collision.findIndex((l) => l.key === leaf.key);
    if (i < 0) added = true;
    return {
      t: 2,
      collision: i < 0 ? [...slot.collision, leaf] : replaced(slot.collision, i, leaf),
    };
  }
  const bit = 1 << ((leaf.hash >>> shift) & MASK);
  const index = popcount(slot.bitmap & (bit - 1));
  if ((slot.bitmap & bit) === 0) {
    added = true;
    const slots = slot.slots.slice();
    slots.splice(index, 0, leaf);
    return { t: 1, bitmap: slot.bitmap | bit, slots };
  }
  const child = put(slot.slots[index], leaf, shift + BITS);
  return { t: 1, bitmap: slot.bitmap, slots: replaced(slot.slots, index, child) };
}

/** Removes a key; returns the same slot when absent, undefined when nothing is left. */
function remove<K, V>(
  slot: Slot<K, V>,
  hash: number,
  key: K,
  shift: number,
): Slot<K, V> | undefined {
  if (isLeaf(slot)) return slot.key === key ? undefined : slot;
  if (!isBranch(slot)) {
    const rest = slot.collision.filter((l) => l.key !== key);
    if (rest.length === slot.collision.length) return slot;
    return rest.length === 1 ? rest[0] : { t: 2, collision: rest };
  }
  const bit = 1 << ((hash >>> shift) & MASK);
  if ((slot.bitmap & bit) === 0) return slot;
  const index = popcount(slot.bitmap & (bit - 1));
  const child = slot.slots[index];
  const next = remove(child, hash, key, shift + BITS);
  if (next === child) return slot;
  if (next === undefined) {
    if (slot.slots.length === 1) return undefined;
    const slots = slot.slots.slice();
    slots.splice(index, 1);
    // A branch left with a single leaf collapses into it (keeps the trie shallow).
    if (slots.length === 1 && !isBranch(slots[0]) && shift > 0) return slots[0];
    return { t: 1, bitmap: slot.bitmap & ~bit, slots };
  }
  if (slot.slots.length === 1 && !isBranch(next) && shift > 0) return next;
  return { t: 1, bitmap: slot.bitmap, slots: replaced(slot.slots, index, next) };
}

function* leaves<K, V>(slot: Slot<K, V>): Generator<Leaf<K, V>> {
  if (isLeaf(slot)) yield slot;
  else if (isBranch(slot)) { for (const s of slot.slots) yield* leaves(s); }
  else yield* slot.collision;
}

/**
 * An immutable map. `with`/`without` return new maps; the old one is unchanged.
 *
 * @example
 * ```ts
 * import { PersistentMap } from "./_pmap.ts";
 * const a = PersistentMap.empty<number, string>().with(1, "one");
 * const b = a.with(2, "two").without(1);
 * console.log(a.get(1), a.size, b.get(1), b.get(2), b.size); // one 1 undefined two 1
 * ```
 */
export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  readonly #root: Branch<K, V>;
  /** Number of entries. */
  readonly size: number;

  private constructor(root: Branch<K, V>, size: number) {
    this.#root = root;
    this.size = size;
  }

  /** The empty map. */
  static empty<K, V>(): PersistentMap<K, V> {
    return new PersistentMap<K, V>(EMPTY_BRANCH as Branch<K, V>, 0);
  }

  /** A map of these entries (later duplicates win). */
  static of<K, V>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    let map = PersistentMap.empty<K, V>();
    for (const [k, v] of entries) map = map.with(k, v);
    return map;
  }

  /** The value of `key`, or undefined. */
  get(key: K): V | undefined {
    const hash = hashOf(key);
    let slot: Slot<K, V> = this.#root;
    for (let shift = 0;; shift += BITS) {
      if (isLeaf(slot)) return slot.key === key ? slot.value : undefined;
      if (!isBranch(slot)) return slot.collision.find((l) => l.key === key)?.value;
      const bit = 1 << ((hash >>> shift) & MASK);
      if ((slot.bitmap & bit) === 0) return undefined;
      slot = slot.slots[popcount(slot.bitmap & (bit - 1))];
    }
  }

  /** Whether `key` is present. */
  has(key: K): boolean {
    const hash = hashOf(key);
    let slot: Slot<K, V> = this.#root;
    for (let shift = 0;; shift += BITS) {
      if (isLeaf(slot)) return slot.key === key;
      if (!isBranch(slot)) return slot.collision.some((l) => l.key === key);
      const bit = 1 << ((hash >>> shift) & MASK);
      if ((slot.bitmap & bit) === 0) return false;
      slot = slot.slots[popcount(slot.bitmap & (bit - 1))];
    }
  }

  /** A map with `key` set to `value`. */
  with(key: K, value: V): PersistentMap<K, V> {
    added = false;
    const root = put(this.#root, { t: 0, hash: hashOf(key), key, value }, 0) as Branch<K, V>;
    return new PersistentMap(root, this.size + (added ? 1 : 0));
  }

  /** A map without `key` (this map when it is absent). */
  without(key: K): PersistentMap<K, V> {
    const root = remove(this.#root, hashOf(key), key, 0) as Branch<K, V> | undefined;
    if (root === this.#root) return this;
    return new PersistentMap(root ?? (EMPTY_BRANCH as Branch<K, V>), this.size - 1);
  }

  /** Entries in the trie's order. */
  *entries(): MapIterator<[K, V]> {
    for (const l of leaves(this.#root)) yield [l.key, l.value];
  }

  /** Keys in the trie's order. */
  *keys(): MapIterator<K> {
    for (const l of leaves(this.#root)) yield l.key;
  }

  /** Values in the trie's order. */
  *values(): MapIterator<V> {
    for (const l of leaves(this.#root)) yield l.value;
  }

  /** Same as {@link entries}. */
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** Calls `f` for every entry. */
  forEach(f: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const l of leaves(this.#root)) f(l.value, l.key, this);
  }
}

/**
 * An immutable first-in first-out queue over {@link PersistentMap}: `push` and `shift` return new
 * queues in O(log n), sharing the rest.
 *
 * @example
 * ```ts
 * import { PersistentQueue } from "./_pmap.ts";
 * const q = PersistentQueue.empty<string>().push("a").push("b");
 * console.log(q.first(), q.shift().first(), q.size, [...q]); // a b 2 [ "a", "b" ]
 * ```
 */
export class PersistentQueue<T> implements Iterable<T> {
  readonly #items: PersistentMap<number, T>;
  readonly #head: number;

  private constructor(items: PersistentMap<number, T>, head: number) {
    this.#items = items;
    this.#head = head;
  }

  /** The empty queue. */
  static empty<T>(): PersistentQueue<T> {
    return new PersistentQueue<T>(PersistentMap.empty(), 0);
  }

  /** Number of items. */
  get size(): number {
    return this.#items.size;
  }

  /** The oldest item, or undefined. */
  first(): T | undefined {
    return this.#items.get(this.#head);
  }

  /** A queue with `item` at the end. */
  push(item: T): PersistentQueue<T> {
    // Slots are numbered from the head modulo 2^30 (the map's cheapest keys).
    return new PersistentQueue(
      this.#items.with((this.#head + this.size) & HASH_MASK, item),
      this.#head,
    );
  }

  /** A queue without its oldest item (this queue when empty). */
  shift(): PersistentQueue<T> {
    if (this.size === 0) return this;
    return new PersistentQueue(this.#items.without(this.#head), (this.#head + 1) & HASH_MASK);
  }

  /** Items, oldest first. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.size; i++) yield this.#items.get((this.#head + i) & HASH_MASK)!;
  }
}

/**
 * A persistent map of these entries: `map` itself when it is one, else a copy.
 *
 * @example
 * ```ts
 * import { PersistentMap, persistentOf } from "./_pmap.ts";
 * const m = PersistentMap.empty<number, string>().with(1, "one");
 * console.log(persistentOf(m) === m, persistentOf(new Map([[2, "two"]])).get(2)); // true two
 * ```
 */
export function persistentOf<K, V>(map: ReadonlyMap<K, V>): PersistentMap<K, V> {
  return map instanceof PersistentMap ? map : PersistentMap.of(map);
}

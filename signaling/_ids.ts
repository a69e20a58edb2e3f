/**
 * Member ids without a set of used ids (issue 17): a lobby hands out the ids of a range in the
 * order of a keyed permutation of that range, `id_k = low + P(k)` for its k-th join into the
 * range. Ids look random (the key is drawn when the lobby is created), are never reused while
 * the lobby lives (P is a bijection), and "was this id ever handed out" is `P⁻¹(id - low) < k`:
 * O(1) memory per lobby and O(1) work per join, however many joins the lobby has seen.
 *
 * P is a Feistel network (8 rounds, 32-bit round keys, a multiply-xorshift round function) over
 * the smallest even number of bits that covers the range, with cycle walking: a value that falls
 * beyond the range is permuted again until it lands inside, which keeps a bijection of the range
 * itself (each cycle of the larger permutation passes through the range in the same order).
 * The domain is at most four times the range, so a walk takes under four steps on average.
 * This is no cipher for secrets: ids only have to be unguessable in practice, as before.
 *
 * @module
 */
import { MAX_PEER_ID } from "../core/constants.ts";
import type { Protocol } from "./codec.ts";
import { randomIdKey } from "./_random.ts";

export { randomIdKey };

/** The key of a lobby's permutations: 16 unsigned 32-bit words (8 round keys per protocol range). */
export type IdKey = readonly number[];

/** Feistel rounds; a key holds 2 * ROUNDS words (`randomIdKey` draws 16). */
const ROUNDS = 8;

/** The round function: a 32-bit mix of a half and the round key, cut to `mask`. */
function round(half: number, key: number, mask: number): number {
  let h = Math.imul(half ^ key, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae3d);
  h ^= h >>> 16;
  return h & mask;
}

/** Bits of each half: the domain is 2^(2 * halfBits) >= size (at least 2 bits in all). */
function halfBitsFor(size: number): number {
  let bits = 1;
  while (2 ** (2 * bits) < size) bits++;
  return bits;
}

function forward(x: number, key: IdKey, at: number, bits: number): number {
  const mask = (1 << bits) - 1;
  let l = Math.floor(x / 2 ** bits), r = x & mask;
  for (let i = 0; i < ROUNDS; i++) [l, r] = [r, l ^ round(r, key[at + i], mask)];
  return l * 2 ** bits + r;
}

function backward(y: number, key: IdKey, at: number, bits: number): number {
  const mask = (1 << bits) - 1;
  let l = Math.floor(y / 2 ** bits), r = y & mask;
  for (let i = ROUNDS - 1; i >= 0; i--) [l, r] = [r ^ round(l, key[at + i], mask), l];
  return l * 2 ** bits + r;
}

/**
 * The k-th value (0 <= k < size) of the permutation of 0..size-1 keyed by `key`'s words
 * `slot * 8 ..`; sizes up to 2^32.
 *
 * @example
 * ```ts
 * import { permute, unpermute } from "./_ids.ts";
 * const key = Array.from({ length: 16 }, (_, i) => i * 77);
 * const y = permute(key, 0, 1000, 5);
 * console.log(y >= 0 && y < 1000, unpermute(key, 0, 1000, y)); // true 5
 * ```
 */
export function permute(key: IdKey, slot: number, size: number, k: number): number {
  const bits = halfBitsFor(size);
  let y = forward(k, key, slot * ROUNDS, bits);
  while (y >= size) y = forward(y, key, slot * ROUNDS, bits);
  return y;
}

/** The inverse of {@link permute}: the k whose value is `y` (0 <= y < size). */
export function unpermute(key: IdKey, slot: number, size: number, y: number): number {
  const bits = halfBitsFor(size);
  let k = backward(y, key, slot * ROUNDS, bits);
  while (k >= size) k = backward(k, key, slot * ROUNDS, bits);
  return k;
}

/** The first id of Godot 4 members; Godot 3 members get ids below it. */
export const GODOT4_FIRST_ID = 2 ** 30;

/**
 * The ids a new member may get: Godot 3 members 2..2^30-1, Godot 4 members 2^30..2^31-1. So in a
 * mesh lobby a Godot 3 member's id is always lower than a Godot 4 member's, and by both sides' own
 * rules (Godot 3: the lower id offers; Godot 4: the higher id offers) both offer: the server then
 * drops the Godot 4 side's offer. The other order would leave the pair with no offerer at all.
 *
 * @example
 * ```ts
 * import { memberIdRange } from "./_ids.ts";
 * console.log(memberIdRange("godot3"), memberIdRange("godot4")); // [ 2, 1073741823 ] [ 1073741824, 2147483647 ]
 * ```
 */
export function memberIdRange(protocol: Protocol): readonly [number, number] {
  return protocol === "godot4" ? [GODOT4_FIRST_ID, MAX_PEER_ID] : [2, GODOT4_FIRST_ID - 1];
}

/**
 * Where a lobby's member ids come from: for each protocol's range ({@link memberIdRange}) a
 * sequence of distinct ids, the k-th for the lobby's k-th member of that protocol, and its
 * inverse. The rules keep only the key and a count per range. The default is
 * {@link permutedMemberIds}; tests may script the ids instead.
 */
export interface MemberIds {
  /** A new lobby's key (random). */
  readonly newKey: () => IdKey;
  /** The k-th id (k >= 0) of `protocol`'s range under `key`: distinct for distinct k. */
  readonly nth: (key: IdKey, protocol: Protocol, k: number) => number;
  /** The k such that `nth(key, protocol, k) === id`, for an id of `protocol`'s range. */
  readonly indexOf: (key: IdKey, protocol: Protocol, id: number) => number;
}

const slotOf = (protocol: Protocol) => (protocol === "godot4" ? 1 : 0);

/**
 * The default {@link MemberIds}: a random key per lobby ({@link randomIdKey}) and a keyed
 * permutation of each protocol's range ({@link permute}, separate round keys per range).
 *
 * @example
 * ```ts
 * import { permutedMemberIds as ids } from "./_ids.ts";
 * const key = ids.newKey();
 * const id = ids.nth(key, "godot4", 0);
 * console.log(id >= 2 ** 30 && id < 2 ** 31, ids.indexOf(key, "godot4", id)); // true 0
 * ```
 */
export const permutedMemberIds: MemberIds = Object.freeze({
  newKey: randomIdKey,
  nth(key: IdKey, protocol: Protocol, k: number): number {
    const [low, high] = memberIdRange(protocol);
    return low + permute(key, slotOf(protocol), high - low + 1, k);
  },
  indexOf(key: IdKey, protocol: Protocol, id: number): number {
    const [low, high] = memberIdRange(protocol);
    return unpermute(key, slotOf(protocol), high - low + 1, id - low);
  },
});

/**
 * The randomness of the lobby rules' default environment (`defaultEnv` in `lobby.ts`): lobby
 * names like the Godot demo's and the keys of each lobby's member ids, from
 * `crypto.getRandomValues`.
 *
 * @module
 */
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A random lobby name like the Node demo's: 16 characters of `[A-Za-z0-9]`, from
 * `crypto.getRandomValues`.
 *
 * @example
 * ```ts
 * import { randomLobbyName } from "./_random.ts";
 * console.log(/^[A-Za-z0-9]{16}$/.test(randomLobbyName())); // true
 * ```
 */
export function randomLobbyName(): string {
  let out = "";
  while (out.length < 16) {
    // Bytes >= 248 (= 4 * 62) are skipped so that every character is equally likely.
    for (const b of crypto.getRandomValues(new Uint8Array(24))) {
      if (b < 248 && out.length < 16) out += ALNUM[b % 62];
    }
  }
  return out;
}

/**
 * A new lobby's id key (`IdKey` in `_ids.ts`): 16 random unsigned 32-bit words from
 * `crypto.getRandomValues`, the round keys of the lobby's two id permutations.
 *
 * @example
 * ```ts
 * import { randomIdKey } from "./_random.ts";
 * console.log(randomIdKey().length); // 16
 * ```
 */
export function randomIdKey(): readonly number[] {
  return Array.from(crypto.getRandomValues(new Uint32Array(16)));
}

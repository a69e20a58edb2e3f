/**
 * The randomness of the lobby rules' default environment (`defaultEnv` in `lobby.ts`): lobby
 * names like the Godot demo's and member ids, from `crypto.getRandomValues`.
 *
 * @module
 */
import { MAX_PEER_ID } from "../core/constants.ts";

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
 * A random member id in 2..2147483647 from `crypto.getRandomValues`.
 *
 * @example
 * ```ts
 * import { randomMemberId } from "./_random.ts";
 * const id = randomMemberId();
 * console.log(id >= 2 && id <= 2147483647); // true
 * ```
 */
export function randomMemberId(): number {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return 2 + (n % (MAX_PEER_ID - 1));
}

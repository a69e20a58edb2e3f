/**
 * Argument checks shared by the reducer's request cases. Each check is an `Either`: `right` lets
 * the request through, `left` carries the error and the reason the caller reads.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { GodotError, MAX_PEER_ID } from "./constants.ts";

/** Why a request was refused. */
export interface Rejection {
  readonly error: GodotError;
  readonly message: string;
}

/** A check of one condition. */
export type Check = E.Either<Rejection, void>;

/** Passes when `ok` holds, else fails with `error` and `message`. */
export function check(ok: boolean, error: GodotError, message: () => string): Check {
  return ok ? PASS : E.left({ error, message: message() });
}

/** The passing check (shared: passing allocates nothing). */
const PASS: Check = E.right(undefined);

/** A check of one condition of a request `A` against the state `S`. */
export type RequestCheck<S, A> = (state: S, request: A) => Check;

/**
 * Runs checks in order against the state and the request, stopping at the first that fails. The
 * check lists are module constants, so a request that passes allocates nothing here.
 */
export function firstFailure<S, A>(
  checks: ReadonlyArray<RequestCheck<S, A>>,
  state: S,
  request: A,
): Check {
  for (let i = 0; i < checks.length; i++) {
    const result = checks[i](state, request);
    if (E.isLeft(result)) return result;
  }
  return PASS;
}

/** A readable rendering of any value a JavaScript caller might pass. */
export function show(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return value.toString();
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
}

/** Whether `value` is a valid peer id: an integer in 1..2147483647. */
export function isPeerId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_PEER_ID;
}

/** A check that `value` is a valid peer id; `what` names the call for the message. */
export function checkPeerId(value: unknown, what: string): Check {
  return check(
    isPeerId(value),
    GodotError.ERR_INVALID_PARAMETER,
    () => `${what}: peer id must be an integer in 1..${MAX_PEER_ID}, got ${show(value)}`,
  );
}

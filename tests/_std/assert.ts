/**
 * A small stand-in for `jsr:@std/assert`, built on `node:assert/strict`.
 *
 * jsr.io cannot be reached from the machines this project is built on, so the
 * `@std/assert` import in `deno.json` points here. The functions keep the names
 * and argument order of `@std/assert`, so mapping the import back to
 * `jsr:@std/assert` is a one-line change in `deno.json`.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg?: string): asserts expr {
  nodeAssert.ok(expr, msg);
}

/** Asserts deep equality (structural, strict about types). */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Asserts `Object.is` equality. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  nodeAssert.strictEqual(actual, expected, msg);
}

/** Asserts that a value is neither `null` nor `undefined`. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  nodeAssert.ok(actual !== null && actual !== undefined, msg ?? `expected a value, got ${actual}`);
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual > expected, msg ?? `expected ${actual} > ${expected}`);
}

/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual >= expected, msg ?? `expected ${actual} >= ${expected}`);
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual < expected, msg ?? `expected ${actual} < ${expected}`);
}

/** Asserts `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.ok(actual <= expected, msg ?? `expected ${actual} <= ${expected}`);
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, msg);
}

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends abstract new (...args: never[]) => unknown>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T> {
  nodeAssert.ok(
    actual instanceof expectedType,
    msg ?? `expected an instance of ${expectedType.name}`,
  );
}

/** Asserts that `fn` throws, and returns what it threw. */
export function assertThrows(fn: () => unknown, msg?: string): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new nodeAssert.AssertionError({ message: msg ?? "expected the function to throw" });
}

/** Asserts that the promise returned by `fn` rejects, and returns the reason. */
export async function assertRejects(
  fn: () => PromiseLike<unknown>,
  msg?: string,
): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new nodeAssert.AssertionError({ message: msg ?? "expected the promise to reject" });
}

/** Fails at once. */
export function fail(msg?: string): never {
  throw new nodeAssert.AssertionError({ message: msg ?? "failed" });
}

/**
 * The case of `_ndc_closed_gc.ts` ("collect-open") through our node-datachannel adapter (the
 * polyfill): each round opens a pair with a channel, drops every reference to the channels while
 * they are open, collects garbage, then closes both connections and waits for their native close.
 * Prints how many channels were collected while open and after closing (a FinalizationRegistry);
 * exits 0 unless the process crashed.
 *
 * Usage: deno run -A --v8-flags=--expose-gc tests/stack/_ndc_adapter_gc.ts [rounds]
 *
 * @module
 */
import { connectPair, createPeerConnection } from "../../adapters/node_datachannel.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const rounds = Number(Deno.args[0] ?? 30);
const gc = (globalThis as Any).gc as () => void;
let collected = 0;
let collectedOpen = 0;
const closedRounds = new Set<number>();
const registry = new FinalizationRegistry((round: number) => {
  if (closedRounds.has(round)) collected++;
  else collectedOpen++;
});

for (let i = 0; i < rounds; i++) {
  const a: Any = createPeerConnection();
  const b: Any = createPeerConnection();
  await (async () => {
    const ca = a.createDataChannel("c", { negotiated: true, id: 0 });
    const cb = b.createDataChannel("c", { negotiated: true, id: 0 });
    registry.register(ca, i);
    registry.register(cb, i);
    const opened = [ca, cb].map((c: Any) =>
      new Promise((resolve) => c.addEventListener("open", resolve))
    );
    await connectPair(a, b);
    await Promise.all(opened);
  })();
  gc();
  await new Promise((r) => setTimeout(r, 1));
  gc();
  await new Promise((r) => setTimeout(r, 1));
  closedRounds.add(i);
  a.close();
  b.close();
  await Promise.all([a.whenNativeClosed(), b.whenNativeClosed()]);
  await new Promise((r) => setTimeout(r, 5));
}
gc();
await new Promise((r) => setTimeout(r, 10));
// The polyfill's native handlers hold its channels, so none goes while its connection is open.
console.log(
  `done: ${rounds} rounds, ${collectedOpen} channels collected while open, ${collected} of ${
    2 * rounds
  } after their connections closed`,
);

/**
 * node-datachannel 0.33.4 crashes the process when a data channel's JavaScript object is
 * collected while it is open and has an `onClosed` handler that does not reach it (geckos.io's
 * server drops its channels so; the crash seen in the star benchmark): the collected wrapper's
 * destructor closes the channel, libdatachannel reports the close, and the queued `onClosed`
 * delivery then runs `DataChannelWrapper::doCleanup()` on the freed wrapper, whose
 * `mOnClosedCallback.reset()` destroys a `ThreadSafeCallback` through a garbage pointer (gdb:
 * `ThreadSafeCallback::callbackFunc` → `DataChannelWrapper::doCleanup` →
 * `ThreadSafeCallback::~ThreadSafeCallback`). Reproduced on the raw stack in child processes
 * (`_ndc_closed_gc.ts`); the polyfill our adapter uses keeps each channel reachable from its native
 * handlers until its close was delivered (`_ndc_adapter_gc.ts`), so the same steps through the
 * adapter do not crash. The first test fails once a release fixes the stack.
 *
 * @module
 */
import { assertEquals } from "@std/assert";

async function run(script: string, args: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      "--v8-flags=--expose-gc",
      new URL(script, import.meta.url).pathname,
      ...args,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

const text = (out: Deno.CommandOutput) =>
  new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);

Deno.test("raw: a channel collected while open, whose onClosed handler does not reach it, crashes the process", async () => {
  const out = await run("./_ndc_closed_gc.ts", ["30", "collect-open"]);
  // Measured: SIGSEGV in the first round, in 10 of 10 runs.
  assertEquals(out.signal, "SIGSEGV", text(out).slice(-400));
});

Deno.test("raw: the same steps with a handler that reaches the channel do not crash", async () => {
  const out = await run("./_ndc_closed_gc.ts", ["5", "handler-holds"]);
  assertEquals([out.signal, out.code], [null, 0], text(out).slice(-400));
  assertEquals(text(out).includes("done: 5 rounds, 5 onClosed delivered"), true, text(out));
});

Deno.test("adapter: channels dropped while open are kept until closed; no crash", async () => {
  const out = await run("./_ndc_adapter_gc.ts", ["10"]);
  assertEquals([out.signal, out.code], [null, 0], text(out).slice(-400));
  const line = text(out);
  assertEquals(
    line.includes("0 channels collected while open, 20 of 20 after their connections closed"),
    true,
    line,
  );
});

/**
 * `@roamhq/wrtc` 0.10.0 crashes the process (SIGSEGV, a null read in
 * `node_webrtc::RTCDataChannel::Send`, `wrtc.node` + 0x206895) when a channel's remote closes the
 * connection while the application is sending on it: the binding's `RTCDataChannel::OnStateChange`
 * runs on libwebrtc's signaling thread and, seeing "closed", sets the channel's
 * `_jingleDataChannel` to null (`CleanupInternals`), while `Send` on the JavaScript thread has
 * checked that pointer and the "open" state and reads the pointer again after converting its
 * argument. Reproduced here on the raw stack (no mesh code, `_wrtc_send_race.ts`) in a child
 * process so that this suite survives; this test fails once a release fixes it.
 *
 * @module
 */
import { assertEquals } from "@std/assert";

/** One core, as on a loaded machine (the race needs the JS thread preempted in `Send`). */
async function pinned(): Promise<string[]> {
  try {
    const probe = await new Deno.Command("taskset", { args: ["-c", "0", "true"] }).output();
    return probe.success ? ["taskset", "-c", "0"] : [];
  } catch {
    return [];
  }
}

Deno.test("raw: sending while the remote closes the connection segfaults in RTCDataChannel::Send", async () => {
  const [command, ...prefix] = [...await pinned(), Deno.execPath()];
  const out = await new Deno.Command(command, {
    args: [
      ...prefix,
      "run",
      "-A",
      "--no-check",
      new URL("./_wrtc_send_race.ts", import.meta.url).pathname,
      "150", // rounds at most; measured: 0 to 23 clean rounds before the crash (7 runs, pinned)
      "1000",
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(out.stdout);
  const rounds = log.split("\n").filter((line) => line.startsWith("round ")).length;
  console.log(`crashed after ${rounds} clean rounds (signal ${out.signal}, code ${out.code})`);
  // Every clean round ended with `send` throwing InvalidStateError: the close was seen.
  assertEquals(log.split("\n").filter((l) => l.includes("InvalidStateError")).length, rounds);
  assertEquals(out.signal, "SIGSEGV", log.slice(-400));
});

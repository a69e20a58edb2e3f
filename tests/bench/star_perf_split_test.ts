/**
 * The star bench's profile split (`bench/star_perf_split.ts`) on `perf script` output shaped like
 * the real recordings of a node-datachannel server (frames copied from one, addresses shortened):
 * each sample lands in the stage of a tick its thread and call chain say. And the clients' stack
 * the star bench picks per library (`clientStackOf`).
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { samplesOf, stageOf } from "../../bench/star_perf_split.ts";
import { clientStackOf } from "../../bench/_star_proto.ts";

const NDC = "/x/node_datachannel.node";
const frames = (...fs: [string, string][]) =>
  fs.map(([sym, dso]) => `\t  1 ${sym} (${dso})`).join("\n");

const SCRIPT = [
  // The JS thread inside a send, in the kernel's sendto.
  `deno  100 \n${
    frames(
      ["udpv6_sendmsg", "[kernel.kallsyms]"],
      ["__sys_sendto", "[kernel.kallsyms]"],
      ["__libc_sendto", "/lib/libc.so.6"],
      ["conn_poll_send", NDC],
      ["SSL_write", NDC],
      ["usrsctp_sendv", NDC],
      ["rtc::DataChannel::send", NDC],
      ["DataChannelWrapper::sendMessageBinary", NDC],
    )
  }`,
  // The JS thread inside a send, encrypting the DTLS record.
  `deno  100 \n${
    frames(
      ["aesni_ctr32_encrypt_blocks", NDC],
      ["SSL_write", NDC],
      ["rtc::impl::DtlsTransport::send", NDC],
      ["usrsctp_sendv", NDC],
      ["rtc::DataChannel::send", NDC],
    )
  }`,
  // libjuice's thread polling its sockets.
  `juice poll  101 \n${
    frames(["do_sys_poll", "[kernel.kallsyms]"], ["__GI___poll", "/lib/libc.so.6"], [
      "conn_poll_run",
      NDC,
    ])
  }`,
  // A worker feeding a SACK to usrsctp.
  `RTC worker  102 \n${
    frames(
      ["sctp_handle_sack", NDC],
      ["sctp_common_input_processing", NDC],
      ["usrsctp_conninput", NDC],
      ["rtc::impl::DtlsTransport::doRecv", NDC],
      ["rtc::impl::ThreadPool::runOne", NDC],
    )
  }`,
  // A worker waiting for a job.
  `RTC worker  103 \n${
    frames(["futex_wait", "[kernel.kallsyms]"], ["rtc::impl::ThreadPool::dequeue", NDC])
  }`,
  // usrsctp's timer thread sending a delayed SACK.
  `SCTP timer  104 \n${
    frames(["__sys_sendto", "[kernel.kallsyms]"], ["SSL_write", NDC], ["sctp_timeout_handler", NDC])
  }`,
  // JIT-compiled JavaScript, and the stripped runtime.
  `deno  100 \n${frames(["JS:*putPacket file:///x/effects/_send.ts:1:1", "/tmp/perf-100.map"])}`,
  `deno  100 \n${frames(["[unknown]", "/x/node_modules/deno/deno"])}`,
].join("\n\n") + "\n";

Deno.test("each sample of a server's profile lands in its stage of a tick", () => {
  const samples = samplesOf(SCRIPT);
  assertEquals(samples.map((s) => [s.comm, s.tid, s.frames.length]), [
    ["deno", "100", 8],
    ["deno", "100", 5],
    ["juice poll", "101", 3],
    ["RTC worker", "102", 5],
    ["RTC worker", "103", 2],
    ["SCTP timer", "104", 3],
    ["deno", "100", 1],
    ["deno", "100", 1],
  ]);
  assertEquals(samples[0].frames[0], { sym: "udpv6_sendmsg", dso: "[kernel.kallsyms]" });
  assertEquals(samples.map((s) => stageOf(s, "100")), [
    ["1 send path (JS thread, sendMessageBinary)", "UDP sendto (kernel and libc)"],
    ["1 send path (JS thread, sendMessageBinary)", "DTLS record (OpenSSL)"],
    ["2 libjuice thread: datagrams in", "poll"],
    ["3 worker: DTLS decrypt and SCTP input", "usrsctp input (SACKs, data)"],
    ["6 worker: waits and wake-ups", undefined],
    ["5 usrsctp timer thread", "sends delayed SACKs"],
    ["9 JS thread: JavaScript (JIT code)", undefined],
    ["8 JS thread: Deno runtime (V8, N-API glue; stripped)", undefined],
  ]);
  // A send on another thread than the JS thread is not the JS thread's send path.
  assertEquals(stageOf(samples[0], "999")[0], "11 other threads");
});

Deno.test("the star bench's clients run on the asked stack, else on each library's usual one", () => {
  assertEquals(clientStackOf("ours", undefined), "ndc");
  assertEquals(clientStackOf("geckos", undefined), "wrtc");
  assertEquals(clientStackOf("ours", "wrtc"), "wrtc");
  assertEquals(clientStackOf("geckos", "ndc"), "ndc");
  const error = assertThrows(() => clientStackOf("ours", "chrome"));
  assert(error instanceof TypeError && /ndc or wrtc, not chrome/.test(error.message));
});

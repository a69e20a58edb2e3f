/**
 * Where a star server's CPU goes: splits a perf recording of the server (`bench/star.ts --perf DIR
 * --perf-call-graph dwarf`) into the stages a delivered tick passes through, by thread and call
 * chain, and prints each stage's share of the samples (and of `US_PER_TICK`, the run's server CPU
 * per delivered tick, when given).
 *
 * ```sh
 * deno run -A bench/star_perf_split.ts DIR/perf-ours-unreliable-64.data [US_PER_TICK]
 * ```
 *
 * Stages: the send path on the JavaScript thread (everything under the binding's
 * `sendMessageBinary`: usrsctp, the DTLS record, libjuice, `sendto`); datagrams in on libjuice's
 * thread (poll, `recvfrom`, the handoff to libdatachannel's DTLS queue); a worker's DTLS decrypt and
 * usrsctp input; a worker's SCTP jobs (notifications, flushes, messages to the binding); the
 * workers' waits and wake-ups; usrsctp's timer thread (its 10 ms tick, delayed SACKs); and the
 * JavaScript thread's own work (N-API callbacks, JIT code, the runtime, the event loop). Deno's
 * binary is stripped, so its frames are one stage. Needs `perf` on PATH.
 *
 * @module
 */

/** One sample: thread name, thread id, frames leaf first (symbol, object file). */
interface Sample {
  readonly comm: string;
  readonly tid: string;
  readonly frames: readonly { sym: string; dso: string }[];
}

function perfScript(file: string, fields: string): string {
  const out = new Deno.Command("perf", {
    args: ["script", "-i", file, "-F", fields],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(out.stdout);
}

/** The samples of a recording, parsed from `perf script`. */
export function samplesOf(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split("\n").filter((l) => l.trim());
    if (!lines.length) continue;
    const head = /^\s*(.+?)\s+(\d+)\s*$/.exec(lines[0]) ?? /^\s*(.+?)\s+(\d+)\s/.exec(lines[0]);
    if (!head) continue;
    const frames = lines.slice(1).flatMap((line) => {
      const rest = line.trim().split(/\s+/).slice(1).join(" ");
      const m = /^(.*) \((.*)\)$/.exec(rest);
      return rest
        ? [{ sym: (m ? m[1] : rest).replace(/\+0x[0-9a-f]+$/, ""), dso: m?.[2] ?? "" }]
        : [];
    });
    samples.push({ comm: head[1], tid: head[2], frames });
  }
  return samples;
}

const has = (s: Sample, re: RegExp) => s.frames.some((f) => re.test(f.sym));
const SCHED =
  /^(__)?schedule$|finish_task_switch|futex_wait|futex_wake|__futex|do_futex|pthread_cond_(wait|signal)/;

/** A sample's stage and, for some stages, the part of it. */
export function stageOf(s: Sample, mainTid: string): [string, string | undefined] {
  const main = s.tid === mainTid;
  if (
    main && has(s, /sendMessageBinary|rtc::DataChannel::send|usrsctp_sendv|SctpTransport::send\b/)
  ) {
    const part = has(s, /__sys_sendto|udp_?v?6?_sendmsg|udp_sendmsg|__libc_sendto/)
      ? "UDP sendto (kernel and libc)"
      : has(s, /juice_send|conn_poll_send|conn_mux_send|agent_send|IceTransport::send/)
      ? "libjuice"
      : has(s, /SSL_write|do_dtls1_write|ssl3_write|EVP_|aes|gcm|DtlsTransport::send|BIO_write/)
      ? "DTLS record (OpenSSL)"
      : has(s, /usrsctp_sendv|sctp_|SctpTransport::trySendMessage/)
      ? "usrsctp"
      : "N-API, binding, libdatachannel (locks, allocation)";
    return ["1 send path (JS thread, sendMessageBinary)", part];
  }
  if (s.comm === "SCTP timer") {
    return [
      "5 usrsctp timer thread",
      has(s, /SSL_write|sendto/) ? "sends delayed SACKs" : "timer tick (every 10 ms)",
    ];
  }
  if (has(s, /DtlsTransport::doRecv/)) {
    const part = has(s, /UpcallCallback|handleUpcall|Processor::enqueue/)
      ? "usrsctp upcall: schedules SCTP jobs"
      : has(s, /usrsctp_conninput|sctp_common_input/)
      ? "usrsctp input (SACKs, data)"
      : has(s, /SSL_read|ssl3_read|dtls1_|EVP_|aes|gcm/)
      ? "DTLS decrypt (OpenSSL)"
      : "other";
    return ["3 worker: DTLS decrypt and SCTP input", part];
  }
  if (
    has(s, /SctpTransport::doRecv|SctpTransport::doFlush|processNotification|SctpTransport::flush/)
  ) {
    return ["4 worker: SCTP jobs (notifications, flushes, messages)", undefined];
  }
  if (s.comm === "RTC worker") return ["6 worker: waits and wake-ups", undefined];
  if (s.comm.startsWith("juice")) {
    const part = has(s, /recvfrom|recvmsg/)
      ? "recvfrom"
      : has(s, /__poll|do_sys_poll|epoll/)
      ? "poll"
      : has(s, /agent_|Transport::incoming|enqueueRecv|IceTransport/)
      ? "ICE input, handoff to the DTLS queue"
      : "other";
    return ["2 libjuice thread: datagrams in", part];
  }
  if (main) {
    if (has(s, /ThreadSafeCallback|CallJs|napi_|Napi::/)) {
      return ["7 JS thread: N-API callbacks", undefined];
    }
    if (s.frames[0]?.dso.endsWith("/deno")) {
      return ["8 JS thread: Deno runtime (V8, N-API glue; stripped)", undefined];
    }
    if (s.frames.some((f) => /perf-\d+\.map/.test(f.dso))) {
      return ["9 JS thread: JavaScript (JIT code)", undefined];
    }
    return ["10 JS thread: other (event loop, GC, libc)", undefined];
  }
  return ["11 other threads", undefined];
}

if (import.meta.main) {
  const [file, usArg] = Deno.args;
  if (!file) throw new TypeError("usage: star_perf_split.ts PERF_DATA [US_PER_TICK]");
  const us = usArg === undefined ? undefined : Number(usArg);
  const mainTid = perfScript(file, "pid").trim().split(/\s+/)[0];
  const samples = samplesOf(perfScript(file, "comm,tid,ip,sym,dso"));
  const stages = new Map<string, { n: number; sched: number; parts: Map<string, number> }>();
  for (const s of samples) {
    const [stage, part] = stageOf(s, mainTid);
    const e = stages.get(stage) ?? { n: 0, sched: 0, parts: new Map() };
    e.n++;
    if (has(s, SCHED)) e.sched++;
    if (part) e.parts.set(part, (e.parts.get(part) ?? 0) + 1);
    stages.set(stage, e);
  }
  const n = samples.length;
  const cell = (k: number) =>
    `${(100 * k / n).toFixed(1).padStart(5)}%` +
    (us === undefined ? "" : ` ${(us * k / n).toFixed(1).padStart(5)} µs`);
  console.log(`${file}: ${n} samples${us === undefined ? "" : `, ${us} µs per delivered tick`}`);
  for (const [stage, e] of [...stages].sort(([a], [b]) => parseInt(a) - parseInt(b))) {
    console.log(`${cell(e.n)}  ${stage}`);
    for (const [part, k] of [...e.parts].sort((a, b) => b[1] - a[1])) {
      console.log(`    ${cell(k)}    ${part}`);
    }
    if (e.sched) console.log(`    ${cell(e.sched)}    (of which in the scheduler or futex)`);
  }
}

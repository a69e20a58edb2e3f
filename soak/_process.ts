/**
 * What the soaks sample of their own process: memory after a settled GC, file descriptors and
 * threads. Shared by `soak/main.ts` (the mesh soak) and `soak/star.ts` (the star soak).
 *
 * @module
 */

/** The process's state at one sample. */
export interface ProcessSample {
  readonly rssMiB: number;
  readonly heapMiB: number;
  /** Open file descriptors; -1 when not on Linux. */
  readonly fds: number;
  /** Threads of the process (libdatachannel's and usrsctp's included); -1 when not on Linux. */
  readonly threads: number;
}

/** Threads of this process, from /proc (-1 when not on Linux). */
export function threadCount(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    return Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? -1);
  } catch {
    return -1; // not Linux
  }
}

/** Open file descriptors of this process, from /proc (-1 when not on Linux). */
export function fdCount(): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return -1; // not Linux
  }
}

/** Collects garbage three times (with `--expose-gc`), letting timers run between, then samples. */
export async function sampleProcess(): Promise<ProcessSample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = Deno.memoryUsage();
  return {
    rssMiB: +(m.rss / 1048576).toFixed(1),
    heapMiB: +(m.heapUsed / 1048576).toFixed(1),
    fds: fdCount(),
    threads: threadCount(),
  };
}

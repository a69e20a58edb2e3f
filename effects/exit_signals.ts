/**
 * Graceful leave on SIGINT/SIGTERM in Deno and Node: every live mesh with liveness on is closed
 * (so its peers get a `bye` and see `peer_disconnected` at once instead of after the liveness
 * timeout), then the signal takes its usual course.
 *
 * One listener per signal for the whole process (on the global `process`, which Node has and Deno
 * 2 provides too), installed when the first such mesh is made. After closing the meshes it removes
 * itself and, when it was the only `process` listener, raises the same signal again 50 ms later so
 * that the process ends exactly as it would have; an application with listeners of its own keeps
 * handling the signal itself. (A Deno application's own `Deno.addSignalListener` listener is not
 * counted: it sees the signal twice.) `liveness: { byeOnExit: false }` leaves signals alone.
 * Browsers use `pagehide` instead ({@link closeOnPageHide}).
 *
 * @module
 */

/** What this module needs of a mesh. */
interface Closable {
  close(): void;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
type Signal = typeof SIGNALS[number];
/** Delay before the signal is raised again: long enough to hand the `bye`s to the stack. */
const FLUSH_MS = 50;

const meshes = new Set<WeakRef<Closable>>();
let installed = false;

interface NodeProcess {
  pid: number;
  on(signal: string, listener: () => void): void;
  removeListener(signal: string, listener: () => void): void;
  listenerCount(signal: string): number;
  kill(pid: number, signal: string): void;
}

function closeAll(): void {
  for (const ref of [...meshes]) {
    meshes.delete(ref);
    try {
      ref.deref()?.close();
    } catch {
      // A broken mesh must not keep the process from ending.
    }
  }
}

function install(): void {
  if (installed) return;
  // Node's `process`, which Deno 2 also provides as a global; none in browsers.
  const node = (globalThis as { process?: NodeProcess }).process;
  if (node === undefined || typeof node.on !== "function") return;
  if (typeof node.listenerCount !== "function") return;
  installed = true;
  for (const signal of SIGNALS) {
    const listener = () => {
      const alone = node.listenerCount(signal) === 1;
      closeAll();
      for (const s of SIGNALS) node.removeListener(s, listeners[s]);
      installed = false;
      // Alone: end the process as the signal would have. Else the application handles it.
      if (alone) setTimeout(() => node.kill(node.pid, signal), FLUSH_MS);
    };
    listeners[signal] = listener;
    node.on(signal, listener);
  }
}

const listeners = {} as Record<Signal, () => void>;

/**
 * Closes `mesh` when the process gets SIGINT or SIGTERM (Deno, Node; nothing elsewhere). The mesh
 * is held weakly.
 *
 * @example
 * ```ts
 * import { closeOnExitSignals } from "./exit_signals.ts";
 * closeOnExitSignals({ close() {} });
 * ```
 */
export function closeOnExitSignals(mesh: Closable): void {
  install();
  meshes.add(new WeakRef(mesh));
}

/**
 * In a browser, a page that goes away closes the mesh, so its peers get a `bye` at once instead of
 * waiting out the liveness timeout. The listener holds the mesh weakly.
 */
export function closeOnPageHide(mesh: { close(): void }): void {
  const target = globalThis as unknown as {
    addEventListener?: (type: string, listener: () => void) => void;
    onpagehide?: unknown;
  };
  if (typeof target.addEventListener !== "function" || !("onpagehide" in target)) return;
  const ref = new WeakRef(mesh);
  target.addEventListener("pagehide", () => ref.deref()?.close());
}

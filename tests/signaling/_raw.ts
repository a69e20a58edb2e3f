/**
 * Helpers of the signaling tests.
 *
 * @module
 */

/** A raw protocol client: records every frame and the close code/reason. */
export function raw(url: string) {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  const opened = new Promise<void>((r) => ws.onopen = () => r());
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.onclose = (e) => r({ code: e.code, reason: e.reason })
  );
  ws.onmessage = (e) => frames.push(e.data);
  return { ws, frames, opened, closed };
}

/** Waits until `cond()` holds; throws after `ms`. */
export async function until(
  cond: () => boolean,
  ms = 5000,
  what: string | (() => string) = "condition",
): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

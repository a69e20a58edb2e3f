/**
 * The star soak's client process (`soak/star.ts`): COUNT Godot 4 clients that each join the
 * client/server lobby, wait for the server, read ticks, say hello on the reliable channel, leave,
 * and do it again, until standard input closes. Prints one JSON line per finished cycle
 * (`{"ok":ms}` or `{"failed":reason}`) and `{"stopped":true}` at the end. A `pause` line on
 * standard input stops starting new cycles (each client finishes its current one and waits), until
 * a `resume` line.
 *
 * ```sh
 * deno run -A soak/_star_churn.ts <signaling url> <lobby> <count>
 * ```
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "../core/constants.ts";
import { joinLobbyGodot4 } from "../signaling/client_godot4.ts";
import { lines } from "../demo/_lines.ts";

const [url, lobby, countArg] = Deno.args;
let running = true;
/** While set, no client starts a cycle: the resolver of the wait, cleared by `resume`. */
let paused: { promise: Promise<void>; resume: () => void } | null = null;
const say = (v: unknown) => console.log(JSON.stringify(v));

/** Resolves when `check` holds (polled), rejects after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function cycle(): Promise<void> {
  const t0 = Date.now();
  const client = await joinLobbyGodot4(url, lobby, { joinTimeoutMs: 30_000 });
  const peer = client.peer;
  try {
    await until(() => peer.getConnectionStatus() === ConnectionStatus.CONNECTED, 30_000, "server");
    let ticks = 0;
    await until(
      () => {
        while (peer.getAvailablePacketCount() > 0) {
          peer.getPacket();
          ticks++;
        }
        return ticks >= 3;
      },
      10_000,
      "3 ticks",
    );
    peer.transferMode = TransferMode.RELIABLE;
    peer.targetPeer = 1;
    if (peer.putPacket(new TextEncoder().encode(`hello ${client.id}`)) !== GodotError.OK) {
      throw new Error(peer.lastError.message);
    }
    // Stay a little (0-2 s) so the server always holds a changing crowd.
    await new Promise((r) => setTimeout(r, Math.random() * 2000));
    say({ ok: Date.now() - t0 });
  } finally {
    await client.close();
    await peer.whenClosed();
  }
}

const loops = Array.from({ length: Number(countArg) }, async () => {
  while (running) {
    if (paused !== null) {
      await paused.promise;
      continue;
    }
    try {
      await cycle();
    } catch (e) {
      say({ failed: String((e as Error)?.message ?? e) });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
});
for await (const line of lines(Deno.stdin.readable)) {
  if (line === "pause" && paused === null) {
    let resume = () => {};
    const promise = new Promise<void>((r) => resume = r);
    paused = { promise, resume };
  } else if (line === "resume" && paused !== null) {
    paused.resume();
    paused = null;
  }
}
// The parent closed our input: stop.
running = false;
paused?.resume();
await Promise.all(loops);
say({ stopped: true });
Deno.exit(0);

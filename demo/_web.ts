/**
 * `deno task demo --web`: the browser demo with company. Builds the page, serves it with the
 * signaling server, starts server-side peers (`demo/web_peer.ts`, each its own process) in a new
 * lobby, and prints the address to open: the page joins that lobby and shows a live mesh with
 * the Deno peers in it. Runs until Ctrl-C.
 *
 * @module
 */
import { type StackChoice, stackOf } from "../adapters/stack.ts";
import { buildWeb } from "../scripts/build_web.ts";
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import { lines } from "./_lines.ts";

/** Options of {@link runWebDemo}. */
export interface WebDemoOptions {
  /** Server-side peers to start (0..16). */
  readonly peers: number;
  /** Interface to bind. */
  readonly hostname: string;
  /** Port (0: any free one). */
  readonly port: number;
  /** WebRTC stack of the server-side peers (`mixed`: ndc and wrtc in turn). Default ndc. */
  readonly stack?: StackChoice;
}

/** Runs the web demo until Ctrl-C; resolves with the exit code. */
export async function runWebDemo(options: WebDemoOptions): Promise<number> {
  const build = await buildWeb();
  console.log(`built web/dist/app.js (${(build.bytes / 1024).toFixed(0)} KiB)`);
  const server = await serveSignalingDeno({
    hostname: options.hostname,
    port: options.port,
    staticDir: new URL("../web/", import.meta.url),
  });
  const root = new URL("..", import.meta.url).pathname;
  const script = new URL("./web_peer.ts", import.meta.url).pathname;
  const children: Deno.ChildProcess[] = [];
  const spawn = (lobby: string) => {
    const stack = stackOf(options.stack ?? "ndc", children.length);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        script,
        "--url",
        server.url,
        "--lobby",
        lobby,
        "--json",
        "--stack",
        stack,
      ],
      cwd: root,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    children.push(child);
    return child;
  };
  /** Reads the first snapshot line of a peer (its id and lobby), then drains the rest. */
  const firstSnapshot = async (child: Deno.ChildProcess) => {
    const output = lines(child.stdout);
    const first = await output.next();
    if (first.done) throw new Error("a server-side peer exited before joining");
    (async () => {
      for await (const _ of output) { /* drain */ }
    })();
    const msg = JSON.parse(first.value);
    if (msg.type !== "snapshot") throw new Error(`a server-side peer failed: ${msg.message}`);
    return msg as { id: number; lobby: string };
  };

  let code = 0;
  let stopping = false;
  try {
    let lobby = "";
    for (let i = 0; i < options.peers; i++) {
      const s = await firstSnapshot(spawn(lobby));
      if (i === 0) lobby = s.lobby;
    }
    const page = new URL(server.httpUrl!);
    if (lobby) page.searchParams.set("lobby", lobby);
    else page.searchParams.set("create", "");
    console.log(`signaling server on ${server.url}`);
    if (lobby) console.log(`${options.peers} Deno peer(s) in lobby ${lobby}`);
    console.log(`\n  Open the demo page:  ${page.href}\n`);
    console.log("Open it in several tabs or browsers to add peers. Ctrl-C stops.");
    const stop = Promise.withResolvers<void>();
    Deno.addSignalListener("SIGINT", () => stop.resolve());
    await Promise.race([
      stop.promise,
      ...children.map((c) =>
        c.status.then((s) => {
          if (stopping) return;
          console.error(`a server-side peer exited (code ${s.code})`);
          code = 1;
        })
      ),
    ]);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    code = 1;
  } finally {
    stopping = true;
    console.log("stopping");
    for (const c of children) {
      const w = c.stdin.getWriter();
      await w.write(new TextEncoder().encode("quit\n")).catch(() => {});
      await w.close().catch(() => {});
    }
    const kill = setTimeout(() => {
      for (const c of children) {
        try {
          c.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    }, 5000);
    await Promise.all(children.map((c) => c.status));
    clearTimeout(kill);
    await server.shutdown();
  }
  return code;
}

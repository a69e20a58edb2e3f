/// <reference lib="dom" />
/**
 * A lab peer inside Chromium (bundled by esbuild and injected into a blank page by
 * `_lab_browser.ts`): joins a lobby with the browser's own `WebSocket` and `RTCPeerConnection`, and
 * behaves as the Deno lab peer does (`tests/network/_lab_agent.ts`). Its events collect in
 * `globalThis.labPage.events` for the driver to read. Not a test file.
 *
 * @module
 */
import { joinLobby, type JoinOptions } from "../../signaling/client.ts";
import { type LabAgent, labAgent, type LabCommand } from "../network/_lab_agent.ts";

const events: Array<Record<string, unknown>> = [];
let agent: LabAgent | undefined;

Object.assign(globalThis, {
  labPage: {
    events,
    async join(url: string, lobby: string, options: JoinOptions): Promise<void> {
      const started = performance.now();
      try {
        const client = await joinLobby(url, lobby, options);
        events.push({ type: "joined", id: client.id, lobby: client.lobby });
        agent = labAgent(client, (value) => events.push(value), started, true);
      } catch (error) {
        events.push({ type: "join_failed", message: String(error) });
      }
    },
    run(command: LabCommand): void {
      agent?.run(command).catch((error) => events.push({ type: "text", text: String(error) }));
    },
  },
});

/**
 * The floor of the relay benchmark: the least a Godot 3 signaling relay on `ws` can do. `J: ` makes
 * a lobby (the joiner is id 1), `J: name` joins one (ids 2, 3, ...), `O:`/`A:`/`C: dest` goes to
 * `dest` with the sender's id in its place. No limits, no timeouts, no validation beyond what it
 * takes not to crash: never use it as a server. Bundled by esbuild and run by `node`; see
 * `_relay_entry.ts`.
 *
 * @module
 */
import { WebSocketServer } from "ws";
import { runBenchServer } from "./_relay_entry.ts";

interface BareSocket {
  send(data: string): void;
  close(): void;
  on(event: "message", listener: (data: unknown) => void): void;
  on(event: "close", listener: () => void): void;
}

interface Member {
  readonly ws: BareSocket;
  readonly id: number;
  readonly lobby: Map<number, Member>;
}

const lobbies = new Map<string, Map<number, Member>>();
let nextLobby = 1;
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
wss.on("connection", (ws: BareSocket) => {
  let me: Member | undefined;
  ws.on("message", (data: unknown) => {
    const text = String(data);
    const nl = text.indexOf("\n");
    const head = text.slice(0, 3);
    if (head === "J: " && me === undefined) {
      let name = text.slice(3, nl).trim();
      if (name === "") {
        name = `L${nextLobby++}`;
        lobbies.set(name, new Map());
      }
      const lobby = lobbies.get(name);
      if (lobby === undefined) return ws.close();
      const id = lobby.size === 0 ? 1 : lobby.size + 1;
      me = { ws, id, lobby };
      ws.send(`I: ${id}\n`);
      for (const other of lobby.values()) {
        other.ws.send(`N: ${id}\n`);
        ws.send(`N: ${other.id}\n`);
      }
      lobby.set(id, me);
      ws.send(`J: ${name}\n`);
      return;
    }
    if (me === undefined) return ws.close();
    const dest = me.lobby.get(Number(text.slice(3, nl)));
    dest?.ws.send(`${text[0]}: ${me.id}${text.slice(nl)}`);
  });
  ws.on("close", () => {
    if (me !== undefined) me.lobby.delete(me.id);
  });
});
wss.on("listening", () => {
  const { port } = wss.address() as { port: number };
  runBenchServer(`ws://127.0.0.1:${port}`, () => new Promise((done) => wss.close(() => done())));
});

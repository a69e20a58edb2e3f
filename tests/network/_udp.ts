/**
 * A tiny UDP tool for the lab's own test (there is no `ping` in the lab).
 *
 * - `echo HOST PORT...`: answers every datagram with the address and port it came from, and
 *   prints `ready` once bound.
 * - `probe HOST PORT... [--timeout MS]`: from ONE socket, sends a datagram to each port in turn and
 *   prints the reply (the address and port the far side saw) or `timeout`, one line per port.
 *
 * @module
 */
import dgram from "node:dgram";

const [mode, host, ...rest] = Deno.args;
const ti = rest.indexOf("--timeout");
const timeoutMs = ti >= 0 ? Number(rest[ti + 1]) : 1500;
const ports = (ti >= 0 ? rest.slice(0, ti) : rest).map(Number);

if (mode === "echo") {
  let bound = 0;
  for (const port of ports) {
    const socket = dgram.createSocket("udp4");
    socket.on("message", (_msg, from) => {
      socket.send(`${from.address}:${from.port}`, from.port, from.address);
    });
    socket.bind(port, host, () => {
      if (++bound === ports.length) console.log("ready");
    });
  }
} else if (mode === "probe") {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, () => r()));
  for (const port of ports) {
    const reply = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => {
        socket.off("message", on);
        resolve("timeout");
      }, timeoutMs);
      const on = (msg: Uint8Array) => {
        clearTimeout(timer);
        socket.off("message", on);
        resolve(new TextDecoder().decode(msg));
      };
      socket.on("message", on);
      socket.send("probe", port, host);
    });
    console.log(reply);
  }
  socket.close();
} else {
  console.error("usage: _udp.ts echo HOST PORT... | probe HOST PORT... [--timeout MS]");
  Deno.exit(2);
}

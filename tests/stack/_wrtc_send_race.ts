/**
 * Raw reproduction, no mesh code: sends on a channel while its remote peer (another process)
 * closes the connection. Each round starts a child process holding the remote connection,
 * negotiates over the child's stdin/stdout, opens a channel and sends binary messages on it in a
 * synchronous loop until `send` throws (the channel left "open"); the child closes its connection
 * a few milliseconds after the channel opened.
 *
 * Usage: [GUARD=1] deno run -A tests/stack/_wrtc_send_race.ts [rounds] [bytes]
 *
 * @module
 */
import wrtc from "@roamhq/wrtc";

// deno-lint-ignore no-explicit-any
type Any = any;

const gathered = (pc: Any) =>
  new Promise<void>((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
  });

async function remote(): Promise<void> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let text = "";
  for await (const chunk of lines) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  const pc: Any = new wrtc.RTCPeerConnection({ iceServers: [] });
  const channel = pc.createDataChannel("r", { negotiated: true, id: 0 });
  channel.onopen = () => {
    setTimeout(() => {
      pc.close();
      setTimeout(() => Deno.exit(0), 50);
    }, Number(Deno.env.get("CLOSE_AFTER_MS") ?? 5) * Math.random());
  };
  await pc.setRemoteDescription(JSON.parse(text));
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(pc.localDescription) + "\n"));
}

async function round(payload: Uint8Array): Promise<{ sent: number; error: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", import.meta.filename!, "--remote"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const pc: Any = new wrtc.RTCPeerConnection({ iceServers: [] });
  const channel = pc.createDataChannel("r", { negotiated: true, id: 0 });
  const open = new Promise((resolve) => channel.onopen = resolve);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(pc.localDescription) + "\n"));
  let text = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  await pc.setRemoteDescription(JSON.parse(text));
  await open;
  let sent = 0;
  let error = "";
  const until = performance.now() + 3000;
  const guarded = Deno.env.get("GUARD") === "1";
  while (performance.now() < until) {
    // GUARD=1: what an adapter could check first (the channel's and the connection's states).
    if (guarded && (channel.readyState !== "open" || pc.connectionState !== "connected")) {
      error = `guard: ${channel.readyState}/${pc.connectionState}`;
      break;
    }
    try {
      channel.send(payload);
      sent++;
    } catch (e) {
      error = String(e);
      break;
    }
  }
  pc.close();
  await writer.close().catch(() => {});
  await child.status;
  await new Promise((r) => setTimeout(r, 0));
  return { sent, error };
}

if (Deno.args.includes("--remote")) {
  await remote();
} else {
  const rounds = Number(Deno.args[0] ?? 20);
  const payload = new Uint8Array(Number(Deno.args[1] ?? 16384));
  for (let i = 0; i < rounds; i++) {
    const { sent, error } = await round(payload);
    console.log(`round ${i}: ${sent} sent, ${error || "no error"}`);
  }
  console.log(`done: ${rounds} rounds`);
}

/**
 * coturn in the lab's wan namespace, started by the tests with a generated configuration:
 * long-term credentials and a realm, listening on the lab's wan address only, no TLS/DTLS, no CLI,
 * verbose (its log shows ALLOCATE and CREATE_PERMISSION, which is how one sees what ICE did).
 *
 * Two kinds, because coturn cannot mix them in one process: static users (`user=name:password`)
 * or the TURN REST scheme (`use-auth-secret`, credentials made by `turnRestCredentials`).
 *
 * @module
 */
import { lines } from "../../demo/_lines.ts";
import { collectText, type Lab, type LabProcess, WAN_IP } from "./_lab.ts";

/** How clients authenticate. */
export type TurnAuth =
  | { readonly kind: "static"; readonly username: string; readonly credential: string }
  | { readonly kind: "rest"; readonly secret: string };

/** A running coturn. */
export interface Turn {
  /** `turn:198.18.0.1:<port>` (`turn:127.0.0.1:<port>` on loopback). */
  readonly url: string;
  /** `stun:198.18.0.1:<port>` (coturn answers STUN binding requests too). */
  readonly stunUrl: string;
  /** Everything it logged so far. */
  log(): string;
  /** Stops it and removes its files. */
  stop(): Promise<void>;
}

/** The realm of the lab's TURN servers. */
export const REALM = "lab.webrtc-mesh";

/** coturn's configuration for the lab (or `ip`): one auth kind, one port, a relay port range. */
export function turnConfig(auth: TurnAuth, port: number, dir: string, ip = WAN_IP): string {
  // Each server gets its own relay port range so two of them never compete for a port.
  const relayBase = 50000 + (port % 10) * 1000;
  return [
    `listening-ip=${ip}`,
    `relay-ip=${ip}`,
    `listening-port=${port}`,
    `min-port=${relayBase}`,
    `max-port=${relayBase + 999}`,
    `realm=${REALM}`,
    ...(auth.kind === "static"
      ? ["lt-cred-mech", `user=${auth.username}:${auth.credential}`]
      : ["use-auth-secret", `static-auth-secret=${auth.secret}`]),
    "no-tls",
    "no-dtls",
    "no-cli",
    "no-tcp-relay",
    // coturn refuses to relay to loopback peers unless told (the loopback server's only ones).
    ...(ip.startsWith("127.") ? ["allow-loopback-peers"] : []),
    "fingerprint",
    "verbose",
    "log-file=stdout",
    "simple-log",
    `pidfile=${dir}/turnserver.pid`,
    `userdb=${dir}/turndb`,
    "",
  ].join("\n");
}

/** Starts coturn in the lab's wan namespace; resolves once its UDP listener is open. */
export function startTurn(lab: Lab, auth: TurnAuth, port = 3478): Promise<Turn> {
  return launch(auth, port, WAN_IP, (cmd) => lab.exec("wan", cmd));
}

/**
 * Starts coturn on loopback (127.0.0.1), for tests that need a real TURN server but no NAT (no
 * lab, no root); the same configuration as the lab's. Resolves once its UDP listener is open.
 */
export function startLoopbackTurn(auth: TurnAuth, port: number): Promise<Turn> {
  return launch(auth, port, "127.0.0.1", (cmd) => {
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errText = collectText(child.stderr);
    let status: Promise<Deno.CommandStatus> | undefined;
    return {
      lines: lines(child.stdout),
      stderr: errText,
      stop: () => {
        if (!status) {
          try {
            child.kill("SIGTERM");
          } catch {
            // exited already
          }
          status = child.status;
        }
        return status;
      },
    };
  });
}

type TurnProcess = Pick<LabProcess, "lines" | "stderr" | "stop">;

async function launch(
  auth: TurnAuth,
  port: number,
  ip: string,
  spawn: (cmd: string[]) => TurnProcess,
): Promise<Turn> {
  const dir = await Deno.makeTempDir({ prefix: "wmlab-turn-" });
  await Deno.writeTextFile(`${dir}/turnserver.conf`, turnConfig(auth, port, dir, ip));
  const proc = spawn(["turnserver", "-c", `${dir}/turnserver.conf`]);
  let text = "";
  const ready = Promise.withResolvers<void>();
  (async () => {
    for await (const line of proc.lines) {
      text += line + "\n";
      if (line.includes(`UDP listener opened on: ${ip}:${port}`)) ready.resolve();
    }
    ready.reject(new Error(`coturn exited before listening:\n${text}\n${proc.stderr()}`));
  })();
  const timer = setTimeout(
    () => ready.reject(new Error(`coturn not listening after 10 s:\n${text}`)),
    10000,
  );
  try {
    await ready.promise;
  } catch (error) {
    await proc.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    url: `turn:${ip}:${port}`,
    stunUrl: `stun:${ip}:${port}`,
    log: () => text,
    stop: async () => {
      await proc.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

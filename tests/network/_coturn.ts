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
import { type Lab, WAN_IP } from "./_lab.ts";

/** How clients authenticate. */
export type TurnAuth =
  | { readonly kind: "static"; readonly username: string; readonly credential: string }
  | { readonly kind: "rest"; readonly secret: string };

/** A running coturn. */
export interface Turn {
  /** `turn:198.18.0.1:<port>`. */
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

/** coturn's configuration for the lab: one auth kind, one port, a relay port range. */
export function turnConfig(auth: TurnAuth, port: number, dir: string): string {
  // Each server gets its own relay port range so two of them never compete for a port.
  const relayBase = 50000 + (port % 10) * 1000;
  return [
    `listening-ip=${WAN_IP}`,
    `relay-ip=${WAN_IP}`,
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
export async function startTurn(lab: Lab, auth: TurnAuth, port = 3478): Promise<Turn> {
  const dir = await Deno.makeTempDir({ prefix: "wmlab-turn-" });
  await Deno.writeTextFile(`${dir}/turnserver.conf`, turnConfig(auth, port, dir));
  const proc = lab.exec("wan", ["turnserver", "-c", `${dir}/turnserver.conf`]);
  let text = "";
  const ready = Promise.withResolvers<void>();
  (async () => {
    for await (const line of proc.lines) {
      text += line + "\n";
      if (line.includes(`UDP listener opened on: ${WAN_IP}:${port}`)) ready.resolve();
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
    url: `turn:${WAN_IP}:${port}`,
    stunUrl: `stun:${WAN_IP}:${port}`,
    log: () => text,
    stop: async () => {
      await proc.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

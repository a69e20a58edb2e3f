/**
 * How the lobby clients reconnect an interrupted peer (`_session.ts`; the rules of the mesh are
 * core/reconnect.ts and core/liveness.ts L9): an ICE restart where both stacks can restart ICE,
 * else a replacement connection.
 *
 * - The offering side of the pair decides when the peer is `peer_interrupted`: an ICE restart
 *   ({@link canRestartIce}: our stack can, and the peer's description is not libdatachannel's)
 *   renegotiates the same connection (offer with new ICE credentials, same DTLS certificate), so
 *   its channels and SCTP association survive and reliable data is delivered in order by SCTP
 *   itself; otherwise a fresh connection replaces it (`replacePeer`), and the mesh's journal makes
 *   the reliable data exact.
 * - The answering side tells the two apart by the offer ({@link isIceRestart}): the same DTLS
 *   fingerprint as the current remote description is a renegotiation of the live connection; a
 *   new one is a fresh connection.
 *
 * @module
 */
import type { SignalingPeerConnection } from "../adapters/loopback.ts";

/** The `a=fingerprint` lines of an SDP, sorted, joined. */
function fingerprints(sdp: string): string {
  return sdp.split(/\r?\n/).filter((l) => l.startsWith("a=fingerprint:")).map((l) => l.trim())
    .sort().join("\n");
}

/** libdatachannel's SDP origin (`o=rtc ...`): that peer cannot take an ICE restart. */
const LIBDATACHANNEL_ORIGIN = /^o=rtc /m;

/**
 * Whether the connection `pc` (connected, with the peer's description applied) can be
 * reconnected by an ICE restart: our stack can restart ICE and the peer's is not libdatachannel.
 *
 * @example
 * ```ts
 * import { canRestartIce } from "./_reconnect.ts";
 * const pc = { canRestartIce: false } as Parameters<typeof canRestartIce>[0];
 * console.log(canRestartIce(pc)); // false
 * ```
 */
export function canRestartIce(pc: SignalingPeerConnection): boolean {
  if (pc.canRestartIce === false) return false;
  const remote = pc.remoteDescription?.sdp;
  return typeof remote === "string" && remote !== "" && !LIBDATACHANNEL_ORIGIN.test(remote);
}

/**
 * Whether `offer` renegotiates the live connection `pc` (an ICE restart: the same DTLS
 * fingerprint as its remote description) rather than offering a fresh connection.
 *
 * @example
 * ```ts
 * import { isIceRestart } from "./_reconnect.ts";
 * const pc = { remoteDescription: { type: "offer", sdp: "a=fingerprint:sha-256 AA\r\n" } };
 * console.log(isIceRestart(pc as never, "a=fingerprint:sha-256 AA\r\n")); // true
 * ```
 */
export function isIceRestart(pc: SignalingPeerConnection, offer: string): boolean {
  const remote = pc.remoteDescription?.sdp;
  if (typeof remote !== "string" || remote === "") return false;
  const ours = fingerprints(remote);
  return ours !== "" && ours === fingerprints(offer);
}

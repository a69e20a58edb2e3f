/**
 * # webrtc-mesh
 *
 * A full mesh of WebRTC peer connections behind the API of Godot's `WebRTCMultiplayer`, for Deno,
 * Node and browsers. Add one `RTCPeerConnection` per remote peer; the mesh creates three
 * pre-negotiated data channels on each (reliable, ordered, unreliable), tells you when a peer is
 * really connected (the signals `peer_connected`, `peer_disconnected`, `connection_succeeded`,
 * `server_disconnected`, as DOM events), and moves packets with Godot's targeting and
 * transfer-mode rules. Every call that can fail returns a {@link GodotError} code and never throws
 * for a bad argument; {@link WebRTCMultiplayer.lastError} says why.
 *
 * Entry points:
 *
 * - `.` (this module): {@link WebRTCMultiplayer} (Godot 3), {@link WebRTCMultiplayerPeer}
 *   (Godot 4: mesh, server or client, extra channels), the Godot enums and constants, the W3C
 *   shapes they accept, and the pure core (reducer, routing) both are built on. Runs everywhere; it
 *   never loads a WebRTC stack itself.
 * - `./node`: W3C `RTCPeerConnection`s backed by node-datachannel (Deno, Node), and
 *   `connectPair` to negotiate two connections in one process.
 * - `./browser`: the browser's own `RTCPeerConnection`, with the same helpers.
 * - `./signaling`: a lobby client (`joinLobby`) and server logic that speak the protocol of Godot's
 *   `webrtc_signaling` demo; `./signaling/node` and `./signaling/deno` are its WebSocket servers.
 *
 * ```sh
 * deno add jsr:@webrtc-mesh/mesh     # Deno
 * npm install webrtc-mesh            # Node 20+ (import from "webrtc-mesh")
 * ```
 *
 * @example Two meshes in one process, over real node-datachannel connections
 * ```ts
 * import { TransferMode, WebRTCMultiplayer } from "@webrtc-mesh/mesh";
 * import { connectPair, createPeerConnection } from "@webrtc-mesh/mesh/node";
 *
 * const host = new WebRTCMultiplayer();
 * const guest = new WebRTCMultiplayer();
 * host.initialize(1);
 * guest.initialize(2);
 * const a = createPeerConnection();
 * const b = createPeerConnection();
 * host.addPeer(a, 2); // three negotiated channels are created on each connection
 * guest.addPeer(b, 1);
 * const connected = Promise.all([host, guest].map((mesh) =>
 *   new Promise((resolve) => mesh.addEventListener("peer_connected", resolve, { once: true }))
 * ));
 * await connectPair(a, b); // your signaling goes here: offer, answer, ICE candidates
 * await connected;
 *
 * host.transferMode = TransferMode.RELIABLE;
 * host.putPacket(new TextEncoder().encode("hello"));
 * for await (const packet of guest.packets()) {
 *   console.log(packet.peerId, new TextDecoder().decode(packet.data)); // 1 hello
 *   break;
 * }
 * host.close();
 * guest.close();
 * await Promise.all([host.whenClosed(), guest.whenClosed()]);
 * ```
 *
 * @module
 */
export * from "./core/mod.ts";
export * from "./effects/mod.ts";

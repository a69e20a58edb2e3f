/// <reference lib="dom" />
/**
 * The browser demo page (bundled to `web/dist/app.js` by `scripts/build_web.ts`): join or create
 * a lobby, watch the mesh, chat on the reliable channel and move a dot on the unreliable one.
 * Uses the browser's own `RTCPeerConnection` through the browser adapter.
 *
 * `?lobby=NAME` in the address joins that lobby at once; `?create` creates one at once;
 * `?server=ws://…` picks another signaling server (default: the one that served the page);
 * `?protocol=godot3|godot4|godot4-cs` sets the protocol switch: Godot 3's text protocol with a
 * `WebRTCMultiplayer`, or Godot 4's JSON protocol with a `WebRTCMultiplayerPeer`, in a mesh lobby or
 * (when creating one) a client/server lobby. Joining an existing lobby takes its kind from the
 * lobby; Godot 3 and Godot 4 pages can share a mesh lobby whose host speaks Godot 3.
 * `?stun=URL&turn=turn:USER:PASSWORD@HOST:PORT&relay=1` (or `?ice=server`, the server's
 * time-limited TURN credentials) set the ICE options of every connection, in either protocol.
 *
 * Test hooks on `window` ({@link PageHooks}): `meshState()` (a {@link MeshSnapshot}, or null before joining),
 * `meshJoin(lobby, {protocol, clientServer})`, `meshSay(text)`, `meshLeave()`.
 *
 * @module
 */
import { createPeerConnection } from "../adapters/browser.ts";
import { iceOptionsFromQuery } from "../signaling/ice.ts";
import type { Protocol } from "../signaling/codec.ts";
import { driftPosition, peerColor } from "./protocol.ts";
import {
  type ChatLine,
  MeshSession,
  type MeshSnapshot,
  type PageHooks,
  type PeerSnapshot,
} from "./session.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const ui = {
  identity: $<HTMLDivElement>("identity"),
  joinPanel: $<HTMLElement>("join-panel"),
  joinForm: $<HTMLFormElement>("join-form"),
  serverUrl: $<HTMLInputElement>("server-url"),
  lobbyName: $<HTMLInputElement>("lobby-name"),
  protocol: $<HTMLSelectElement>("protocol"),
  joinButton: $<HTMLButtonElement>("join-button"),
  joinStatus: $<HTMLParagraphElement>("join-status"),
  invitePanel: $<HTMLElement>("invite-panel"),
  inviteLink: $<HTMLAnchorElement>("invite-link"),
  copyInvite: $<HTMLButtonElement>("copy-invite"),
  leave: $<HTMLButtonElement>("leave-button"),
  field: $<HTMLCanvasElement>("field"),
  meshSummary: $<HTMLSpanElement>("mesh-summary"),
  meshRows: $<HTMLTableSectionElement>("mesh-rows"),
  chatLog: $<HTMLOListElement>("chat-log"),
  chatForm: $<HTMLFormElement>("chat-form"),
  chatInput: $<HTMLInputElement>("chat-input"),
  chatSend: $<HTMLButtonElement>("chat-send"),
  eventLog: $<HTMLOListElement>("event-log"),
};

const params = new URLSearchParams(location.search);
const defaultServer = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
ui.serverUrl.value = params.get("server") ?? defaultServer;
ui.lobbyName.value = params.get("lobby") ?? "";
if (["godot3", "godot4", "godot4-cs"].includes(params.get("protocol") ?? "")) {
  ui.protocol.value = params.get("protocol")!;
}

/** The protocol switch as join options. */
function switchOptions(): { protocol: Protocol; clientServer: boolean } {
  return {
    protocol: ui.protocol.value === "godot3" ? "godot3" : "godot4",
    clientServer: ui.protocol.value === "godot4-cs",
  };
}

let session: MeshSession | undefined;
let joining: Promise<MeshSnapshot> | undefined;
/** Where the mouse put our dot, and when (drift resumes 3 s after the last move). */
let steer: { x: number; y: number; at: number } | undefined;

function updateJoinButton(): void {
  ui.joinButton.textContent = ui.lobbyName.value.trim() === "" ? "Create lobby" : "Join lobby";
}
updateJoinButton();
ui.lobbyName.addEventListener("input", updateJoinButton);

function position(now: number): { x: number; y: number } {
  if (steer && now - steer.at < 3000) return steer;
  return driftPosition(session?.client.id ?? 0, now);
}

async function join(
  lobby: string,
  choice: { protocol?: Protocol; clientServer?: boolean } = {},
): Promise<MeshSnapshot> {
  const { protocol, clientServer } = { ...switchOptions(), ...choice };
  if (session) return session.snapshot();
  if (joining) return await joining;
  ui.joinButton.disabled = true;
  ui.joinStatus.classList.remove("error");
  ui.joinStatus.textContent = lobby ? `Joining lobby ${lobby}…` : "Creating a lobby…";
  joining = (async () => {
    try {
      const serverUrl = ui.serverUrl.value.trim();
      // ?stun=…&turn=…&relay=1, or ?ice=server for the server's time-limited TURN credentials;
      // they apply to either protocol.
      const ice = await iceOptionsFromQuery(params, serverUrl);
      session = await MeshSession.join(serverUrl, lobby.trim(), {
        ...ice,
        protocol,
        clientServer,
        createPeerConnection,
        position,
        onChat: () => renderChat(),
      });
    } catch (error) {
      ui.joinStatus.classList.add("error");
      ui.joinStatus.textContent = `Could not join: ${
        error instanceof Error ? error.message : error
      }`;
      ui.joinButton.disabled = false;
      throw error;
    } finally {
      joining = undefined;
    }
    const joined = session;
    joined.client.addEventListener("disconnected", (e) => {
      // An unsealed lobby ends with its signaling connection (the host left, the server stopped).
      if (!joined.client.sealed && session === joined) {
        leave(`The lobby closed: ${e.detail.reason || `code ${e.detail.code}`}.`);
      }
    });
    const s = session.snapshot();
    const invite = new URL(location.href);
    invite.search = "";
    invite.searchParams.set("lobby", s.lobby);
    if (protocol === "godot4") invite.searchParams.set("protocol", "godot4");
    if (ui.serverUrl.value.trim() !== defaultServer) {
      invite.searchParams.set("server", ui.serverUrl.value.trim());
    }
    ui.inviteLink.href = invite.href;
    ui.inviteLink.textContent = invite.href;
    ui.joinPanel.hidden = true;
    ui.invitePanel.hidden = false;
    ui.chatInput.disabled = false;
    ui.chatSend.disabled = false;
    history.replaceState(null, "", invite.href);
    render();
    return s;
  })();
  return await joining;
}

async function leave(why = "Left the lobby."): Promise<void> {
  const s = session;
  if (!s) return;
  session = undefined;
  await s.close();
  ui.joinPanel.hidden = false;
  ui.invitePanel.hidden = true;
  ui.chatInput.disabled = true;
  ui.chatSend.disabled = true;
  ui.joinButton.disabled = false;
  ui.joinStatus.textContent = why;
  ui.lobbyName.value = "";
  updateJoinButton();
  history.replaceState(null, "", location.pathname);
  render();
}

ui.joinForm.addEventListener("submit", (e) => {
  e.preventDefault();
  join(ui.lobbyName.value).catch(() => {});
});
ui.leave.addEventListener("click", () => leave());
ui.copyInvite.addEventListener("click", () => {
  navigator.clipboard?.writeText(ui.inviteLink.href).then(
    () => ui.copyInvite.textContent = "Copied",
    () => ui.copyInvite.textContent = "Copy failed",
  );
});
ui.chatForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (session && ui.chatInput.value.trim() !== "") {
    session.say(ui.chatInput.value);
    ui.chatInput.value = "";
  }
});
ui.field.addEventListener("pointermove", (e) => {
  const r = ui.field.getBoundingClientRect();
  steer = {
    x: Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)),
    y: Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)),
    at: performance.now(),
  };
});

// ---------------------------------------------------------------------------------------------
// Rendering

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function stateOf(p: PeerSnapshot): { label: string; css: string } {
  if (p.left) return { label: "left", css: "left" };
  if (p.connected) return { label: "connected", css: "connected" };
  return { label: p.connectionState, css: "connecting" };
}

function channelBadge(letter: string, state: string, name: string): HTMLElement {
  const css = state === "open" ? "open" : state === "connecting" ? "connecting" : "";
  const badge = el("span", `ch ${css}`, letter);
  badge.title = `${name}: ${state}`;
  return badge;
}

function renderTable(s: MeshSnapshot | null): void {
  const rows: HTMLTableRowElement[] = [];
  if (s) {
    const self = el("tr", "self");
    const who = el("td");
    const sw = el("span", "swatch");
    sw.style.background = peerColor(s.id);
    who.append(sw, `${s.id} (you${s.id === 1 ? ", host" : ""})`);
    const sent = s.peers.reduce((n, p) => n + p.out[0] + p.out[1] + p.out[2], 0);
    const got = s.peers.reduce((n, p) => n + p.in[0] + p.in[1] + p.in[2], 0);
    const signaling = el("td");
    signaling.append(el("span", "state", s.signaling));
    self.append(
      who,
      signaling,
      el("td", "muted", "signaling"),
      el("td", "muted", "–"),
      el("td", "muted", `${got} total`),
      el("td", "muted", `${sent} total`),
    );
    rows.push(self);
    for (const p of s.peers) {
      const tr = el("tr", p.left ? "left" : "");
      const id = el("td");
      const swatch = el("span", "swatch");
      swatch.style.background = peerColor(p.id);
      id.append(swatch, `${p.id}${p.id === 1 ? " (host)" : ""}`);
      const st = stateOf(p);
      const state = el("td");
      state.append(el("span", `state ${st.css}`, st.label));
      const channels = el("td");
      channels.append(
        channelBadge("R", p.channels[0], "reliable"),
        channelBadge("O", p.channels[1], "unreliable ordered"),
        channelBadge("U", p.channels[2], "unreliable"),
      );
      tr.dataset.peer = String(p.id);
      tr.append(
        id,
        state,
        channels,
        el(
          "td",
          "",
          (p.rtt === null ? "–" : `${p.rtt.toFixed(1)} ms`) +
            (p.candidates ? ` · ${p.candidates}` : ""),
        ),
        el("td", "", p.in.join(" / ")),
        el("td", "", p.out.join(" / ")),
      );
      rows.push(tr);
    }
  }
  if (rows.length <= 1) {
    const tr = el("tr", "empty");
    const td = el("td", "", s ? "Waiting for peers: share the invite link." : "No peers yet.");
    td.colSpan = 6;
    tr.append(td);
    rows.push(tr);
  }
  ui.meshRows.replaceChildren(...rows);
  ui.meshSummary.textContent = s
    ? `${s.connected.length} of ${s.peers.filter((p) => !p.left).length} peers connected`
    : "";
}

let chatShown = -1;
function renderChat(): void {
  const s = session?.snapshot();
  const lines: readonly ChatLine[] = s?.chat ?? [];
  const key = lines.length === 0 ? 0 : lines[lines.length - 1].at * 1000 + lines.length;
  if (key === chatShown) return;
  chatShown = key;
  ui.chatLog.replaceChildren(...lines.map((line) => {
    const li = el("li", line.from === s?.id ? "me" : "");
    const who = el("span", "who", `peer ${line.from}`);
    who.style.color = peerColor(line.from);
    li.append(who, line.text);
    return li;
  }));
  ui.chatLog.scrollTop = ui.chatLog.scrollHeight;
}

let eventsShown = "";
function renderEvents(s: MeshSnapshot | null): void {
  const log = s?.log ?? [];
  const key = log.length === 0 ? "" : `${log.length}:${log[log.length - 1]}`;
  if (key === eventsShown) return;
  eventsShown = key;
  ui.eventLog.replaceChildren(...log.map((line) => el("li", "", line)));
  ui.eventLog.scrollTop = ui.eventLog.scrollHeight;
}

function render(): void {
  const s = session?.snapshot() ?? null;
  ui.identity.classList.toggle("live", s !== null);
  ui.identity.textContent = s
    ? `peer ${s.id}${s.id === 1 ? " (host)" : ""} · lobby ${s.lobby} · ${
      s.protocol === "godot4" ? "Godot 4" : "Godot 3"
    }${s.role === "mesh" ? "" : ` ${s.role}`} · ${s.connected.length} connected`
    : "not in a lobby";
  renderTable(s);
  renderChat();
  renderEvents(s);
}

function drawField(): void {
  const canvas = ui.field;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "rgba(255,255,255,0.06)";
  ctx.lineWidth = 1;
  for (let x = 0; x <= w; x += 40) {
    ctx.beginPath();
    ctx.moveTo(x + 0.5, 0);
    ctx.lineTo(x + 0.5, h);
    ctx.stroke();
  }
  for (let y = 0; y <= h; y += 40) {
    ctx.beginPath();
    ctx.moveTo(0, y + 0.5);
    ctx.lineTo(w, y + 0.5);
    ctx.stroke();
  }
  const s = session?.snapshot();
  if (!s) {
    ctx.fillStyle = "rgba(255,255,255,0.55)";
    ctx.font = "15px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.fillText("Join a lobby to see every peer's dot here", w / 2, h / 2);
    return;
  }
  const dots: Array<{ id: number; x: number; y: number; self: boolean }> = [];
  for (const p of s.peers) if (p.dot && p.connected) dots.push({ id: p.id, ...p.dot, self: false });
  dots.push({ id: s.id, ...s.dot, self: true });
  for (const d of dots) {
    const x = 16 + d.x * (w - 32);
    const y = 16 + d.y * (h - 32);
    ctx.beginPath();
    ctx.arc(x, y, d.self ? 11 : 9, 0, Math.PI * 2);
    ctx.fillStyle = peerColor(d.id);
    ctx.fill();
    if (d.self) {
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.stroke();
    }
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "left";
    ctx.fillText(d.self ? `${d.id} (you)` : String(d.id), x + 14, y + 4);
  }
}

function frame(): void {
  drawField();
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
setInterval(render, 250);
render();

// ---------------------------------------------------------------------------------------------
// Test hooks

const hooks: PageHooks = {
  meshState: () => session?.snapshot() ?? null,
  meshJoin: (lobby, options) => join(lobby, options),
  meshSay: (text: string) => session?.say(text) ?? 0,
  meshLeave: () => leave(),
};
Object.assign(window, hooks);

if (params.has("lobby") && params.get("lobby") !== "") join(params.get("lobby")!).catch(() => {});
else if (params.has("create")) join("").catch(() => {});

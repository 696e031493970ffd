// The officer's tasks: stored as `task` messages arrive (acked after), shown as cards with
// the next step (accept, on scene, resolve with a note and photos), alerting on a new one.
import * as store from "./store.js";
import { $, T, clock, distance, h, metres, newId, toast } from "./dom.js";
import * as photos from "./photos.js";

const STEPS = ["acknowledged", "on_scene", "resolved"];
const STEP_KEY = { acknowledged: "m.step.accept", on_scene: "m.step.on_scene",
                   resolved: "m.step.resolve" };
const LEVEL_ORDER = { red: 0, yellow: 1, green: 2 };
const KEEP_MSG_IDS = 50;
let app = null;
let audio = null;
let resolving = null; // {task, photos: []}

export function init(a) {
  app = a;
  $("#gw-resolve").addEventListener("submit", submitResolve);
  $("#gw-resolve-cancel").addEventListener("click", closeSheet);
  $("#gw-resolve-file").addEventListener("change", (ev) => addPhotos(ev.target, "#gw-resolve-photos"));
}

export function unlockSound() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!audio && Ctx) audio = new Ctx();
  if (audio && audio.state === "suspended") audio.resume();
}

function chime() {
  if (navigator.vibrate) navigator.vibrate([300, 120, 300]);
  if (!audio || audio.state !== "running") return;
  const t0 = audio.currentTime;
  for (const [i, f] of [880, 1175, 1568].entries()) {
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = f;
    g.gain.setValueAtTime(0.0001, t0 + i * 0.18);
    g.gain.exponentialRampToValueAtTime(0.4, t0 + i * 0.18 + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.18 + 0.3);
    o.connect(g).connect(audio.destination);
    o.start(t0 + i * 0.18);
    o.stop(t0 + i * 0.18 + 0.32);
  }
}

/** A system notification when the app is in the background (permission asked on "me"). */
function notify(text, t) {
  if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
  navigator.serviceWorker.ready.then((reg) => reg.showNotification(text, {
    body: [t.category ? T(`cat.${t.category}`) : "", t.incident_id].filter(Boolean).join(" · "),
    tag: t.incident_id, renotify: true, icon: "/m/static/icons/icon-192.png",
    vibrate: [300, 120, 300] })).catch(() => {});
}

/** A `task` message from the gateway: stored (once per msg_id) before link.js acks it. */
export async function receive(m) {
  let t = await store.get("tasks", m.incident_id);
  if (t && t.msg_ids.includes(m.msg_id)) return; // delivered again: ack, nothing new
  const fresh = !t || !t.active;
  t = t || { incident_id: m.incident_id, msg_ids: [], history: [], local: "", first_ts: m.ts };
  Object.assign(t, pick(m.case || {}));
  t.msg_ids = [...t.msg_ids, m.msg_id].slice(-KEEP_MSG_IDS);
  t.history = [...t.history, { ts: m.ts, action: m.action, note: (m.case || {}).note || "" }];
  t.action = m.action;
  t.ts = m.ts;
  const closed = ["resolved", "closed"].includes(t.status);
  if (m.action === "unassign") t.active = false;
  else if (m.action === "assign") { t.active = !closed; t.local = closed ? t.local : ""; t.refused = ""; }
  else t.active = (t.active || fresh) && !closed && t.local !== "resolved";
  if (m.action === "escalate") t.escalated = true;
  t.unread = t.active && m.action !== "unassign";
  await store.put("tasks", t);
  await render();
  if (!$("#v-tasks").hidden) setTimeout(seen, 8000); // looked at where it appeared
  const title = t.title || t.incident_id;
  if (m.action === "unassign") {
    toast(T("m.task.unassigned", { title }), "info", 6000);
  } else if (t.active) {
    const note = (m.case || {}).note || "";
    const text = T(m.action === "assign" ? "m.task.new" : `m.task.${m.action}`, { title, note });
    chime();
    toast(text, "warn", 6000);
    notify(text, t);
  }
}

function pick(c) {
  const out = {};
  for (const k of ["title", "category", "level", "lat", "lon", "status", "note"]) {
    if (c[k] !== undefined && c[k] !== null) out[k] = c[k];
  }
  return out;
}

/** The officer's step on a task: an incident_update (and photos) through the outbox. */
async function step(t, status, note = "", pics = []) {
  const ts = app.now();
  const msg = { type: "incident_update", msg_id: newId("u"), incident_id: t.incident_id,
                ts: Math.round(ts * 1000) / 1000, status };
  if (note) msg.note = note;
  if (status === "resolved") { t.resolution = note; t.photos = pics.length; }
  t.undo = { local: t.local, active: t.active, msg_id: msg.msg_id }; // if it is refused
  const attachments = pics.map((p) => ({ type: "attachment", msg_id: newId("a"),
    incident_id: t.incident_id, officer_id: app.pairing.officer_id, ts: msg.ts, mime: p.mime,
    data: p.data }));
  t.local = status;
  // every id is pending before the first is sent: an ack that comes back while the photos are
  // still being queued must find (and drop) its id in what is stored, not in a stale copy
  t.pending = [msg.msg_id, ...attachments.map((a) => a.msg_id)];
  t.refused = "";
  t.unread = false;
  if (status === "resolved") { t.active = false; t.done_ts = ts; }
  await store.put("tasks", t);
  await app.send(msg, T(STEP_KEY[status]));
  for (const a of attachments) await app.send(a, T("m.photo"));
  await render();
}

export async function acked(msg) {
  if (!msg.incident_id) return;
  const t = await store.get("tasks", msg.incident_id);
  if (!t || !t.pending) return;
  t.pending = t.pending.filter((id) => id !== msg.msg_id);
  await store.put("tasks", t);
  await render();
}

export async function refused(msg, reason) {
  if (!msg.incident_id) return;
  const t = await store.get("tasks", msg.incident_id);
  if (!t || !t.pending || !t.pending.includes(msg.msg_id)) return;
  t.pending = t.pending.filter((id) => id !== msg.msg_id);
  t.refused = reason;
  if (t.undo && t.undo.msg_id === msg.msg_id) { // the step did not happen: back to before it
    t.local = t.undo.local;
    t.active = t.undo.active;
    if (t.local !== "resolved") t.resolution = "";
  }
  await store.put("tasks", t);
  await render();
}

export async function seen() {
  for (const t of await store.all("tasks")) {
    if (t.unread) { t.unread = false; await store.put("tasks", t); }
  }
  setTimeout(render, 1500);
}

function syncState(t) {
  if (t.refused) return "refused";
  return t.pending && t.pending.length ? "queued" : t.local ? "sent" : "";
}

function stepper(t) {
  const done = STEPS.indexOf(t.local);
  return h("ol", { class: "gw-steps" }, STEPS.map((s, i) => h("li", {
    class: i <= done ? "gw-step gw-step--done" : "gw-step" }, T(STEP_KEY[s]))));
}

async function dismiss(t) {
  t.active = false;
  t.done_ts = app.now();
  await store.put("tasks", t);
  await render();
}

function actions(t) {
  const next = STEPS[STEPS.indexOf(t.local) + 1];
  const buttons = [next];
  if (next !== "resolved") buttons.push("resolved"); // resolving may skip a step
  const row = buttons.map((s, i) => h("button", {
    type: "button", class: `gw-btn ${i === 0 ? "gw-btn--primary" : "gw-btn--ghost"}`,
    dataset: { step: s },
    onclick: () => (s === "resolved" ? openSheet(t) : step(t, s)),
  }, T(STEP_KEY[s])));
  if (t.refused) { // the centre moved the case on meanwhile: the officer may put it away
    row.push(h("button", { type: "button", class: "gw-btn gw-btn--ghost gw-btn--small",
                           dataset: { step: "dismiss" }, onclick: () => dismiss(t) },
               T("m.task.dismiss")));
  }
  return h("div", { class: "gw-card-actions" }, row);
}

function card(t, active) {
  const level = t.level || "green";
  const sync = syncState(t);
  const here = app.fix;
  const m = active && here && Number.isFinite(t.lat) && Number.isFinite(t.lon)
    ? metres(here.lat, here.lon, t.lat, t.lon) : null;
  const far = m === null ? "" : m < 30 ? T("m.task.here") : T("m.task.away", { d: distance(m) });
  const status = t.local || t.status || "";
  return h("li", {
    class: `gw-card gw-card--${level}${t.unread ? " gw-card--new" : ""}`,
    dataset: { incident: t.incident_id, local: t.local || "", sync, level } },
    h("div", { class: "gw-card-top" },
      h("span", { class: `gw-level gw-level--${level}` }, T(`level.${level}`)),
      t.category ? h("span", { class: "gw-cat" }, T(`cat.${t.category}`)) : null,
      t.escalated ? h("span", { class: "gw-tag gw-tag--esc" }, T("m.task.escalated_tag")) : null,
      h("span", { class: "gw-time" }, clock(t.ts || t.first_ts))),
    h("h3", { class: "gw-card-title" }, t.title || t.incident_id),
    h("p", { class: "gw-card-meta" },
      [status ? T(`status.${status}`) : "", far, t.incident_id]
        .filter(Boolean).join(" · ")),
    t.note ? h("p", { class: "gw-card-note" }, h("b", {}, T("m.task.note_from")), " ", t.note) : null,
    !active && t.action === "unassign" ? h("p", { class: "gw-card-note" }, T("m.task.unassigned_note")) : null,
    !active && t.resolution ? h("p", { class: "gw-card-note gw-card-note--mine" },
      h("b", {}, T("m.task.my_resolution")), " ", t.resolution,
      t.photos ? ` · ${T("m.photos_n", { n: t.photos })}` : "") : null,
    active ? stepper(t) : null,
    sync ? h("p", { class: `gw-sync gw-sync--${sync}` },
      sync === "refused" ? T("m.sync.refused", { reason: t.refused }) : T(`m.sync.${sync}`)) : null,
    active ? actions(t) : null);
}

export async function render() {
  if (!app || !app.pairing) return;
  const rows = await store.all("tasks");
  const open = rows.filter((t) => t.active).sort((a, b) =>
    (LEVEL_ORDER[a.level] ?? 3) - (LEVEL_ORDER[b.level] ?? 3) || (b.ts || 0) - (a.ts || 0));
  const done = rows.filter((t) => !t.active)
    .sort((a, b) => (b.done_ts || b.ts || 0) - (a.done_ts || a.ts || 0)).slice(0, 20);
  $("#gw-tasks").replaceChildren(...open.map((t) => card(t, true)));
  $("#gw-tasks-done").replaceChildren(...done.map((t) => card(t, false)));
  $("#gw-tasks-empty").hidden = open.length > 0;
  $("#gw-tasks-done-h").hidden = done.length === 0;
  const unread = open.filter((t) => t.unread).length;
  const badge = $("#gw-tab-badge");
  badge.hidden = open.length === 0;
  badge.textContent = String(open.length);
  badge.classList.toggle("gw-badge--new", unread > 0);
}

// ---- resolve sheet: note and photos ----------------------------------------------------
function openSheet(t) {
  resolving = { task: t, photos: [] };
  $("#gw-resolve-case").textContent = t.title || t.incident_id;
  $("#gw-resolve-note").value = "";
  $("#gw-resolve-photos").replaceChildren();
  $("#gw-resolve-error").hidden = true;
  $("#gw-sheet").hidden = false;
  $("#gw-resolve-note").focus();
}

function closeSheet() {
  $("#gw-sheet").hidden = true;
  if (resolving) for (const p of resolving.photos) URL.revokeObjectURL(p.preview);
  resolving = null;
}

export async function addPhotos(input, listSel, bucket = null) {
  const list = bucket || (resolving && resolving.photos);
  if (!list) return;
  for (const file of Array.from(input.files || [])) {
    if (list.length >= 4) { toast(T("m.photo_max"), "warn"); break; }
    try {
      const p = await photos.prepare(file, app.cfg.photo_px, app.cfg.max_photo_bytes);
      list.push(p);
      const thumb = h("figure", { class: "gw-thumb" }, h("img", { src: p.preview, alt: "" }),
        h("button", { type: "button", class: "gw-thumb-x", "aria-label": T("m.photo_remove"),
          onclick: () => { list.splice(list.indexOf(p), 1); thumb.remove(); } }, "×"));
      $(listSel).append(thumb);
    } catch (e) {
      toast(T("m.photo_bad", { name: file.name }), "error");
    }
  }
  input.value = "";
}

async function submitResolve(ev) {
  ev.preventDefault();
  if (!resolving) return;
  const note = $("#gw-resolve-note").value.trim();
  if (!note) {
    const p = $("#gw-resolve-error");
    p.textContent = T("m.resolve.need_note");
    p.hidden = false;
    return;
  }
  const { task, photos: pics } = resolving;
  closeSheet();
  await step(task, "resolved", note, pics);
  toast(T(app.link && app.link.open ? "m.resolve.sent" : "m.saved_offline"), "ok");
}

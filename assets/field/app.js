// The field terminal /m/: pairing, then the officer's tasks, reports and position over
// terminal protocol v1 (see link.js); everything sent goes through the IndexedDB outbox.
import * as store from "./store.js";
import { Link } from "./link.js";
import { $, T, newId, setTexts, toast } from "./dom.js";
import * as tasks from "./tasks.js";
import * as report from "./report.js";
import * as me from "./me.js";

const LANG_KEY = "gw-field-lang";
const TEXTS_KEY = "gw-field-texts-";
const MAX_QUEUED_POSITIONS = 720; // two hours at 10 s
const FIX_FRESH_S = 120; // a fix older than this is not reported again as "here now"

export const app = {
  cfg: null, pairing: null, link: null, fix: null, lastPositionTs: 0, battery: null,
  duty: true, audio: null, posError: "",
  now: () => Date.now() / 1000,
  send, flush: () => app.link && app.link.flush(), refreshQueue,
};

async function loadJson(url, cacheKey) {
  try {
    const r = await fetch(url, { cache: "no-cache" });
    if (!r.ok) throw new Error(String(r.status));
    const body = await r.json();
    await store.setKv(cacheKey, body);
    return body;
  } catch (e) {
    return store.getKv(cacheKey);
  }
}

async function useLang(lang) {
  const cached = localStorage.getItem(TEXTS_KEY + lang);
  if (cached) setTexts(JSON.parse(cached), lang);
  const fresh = await loadJson(`/m/i18n/${lang}.json`, `texts-${lang}`);
  if (fresh) {
    localStorage.setItem(TEXTS_KEY + lang, JSON.stringify(fresh));
    setTexts(fresh, lang);
  }
  localStorage.setItem(LANG_KEY, lang);
}

async function switchLang() {  // to the next of the server's languages (zh → en → zh)
  const langs = app.cfg.langs || ["zh", "en"];
  const now = langs.indexOf(localStorage.getItem(LANG_KEY) || app.cfg.default_lang);
  const next = langs[(now + 1) % langs.length];
  await useLang(next);
  if (app.pairing) renderAll();
}

/** Queue a protocol message (the same msg_id until acked) and send it if the link is up. */
async function send(msg, label = "") {
  await store.enqueue(msg, label);
  await refreshQueue();
  app.flush();
  return msg.msg_id;
}

async function refreshQueue() {
  const rows = await store.queued();
  const items = rows.filter((r) => r.msg.type !== "position").length;
  const badge = $("#gw-queue");
  badge.hidden = items === 0;
  badge.textContent = T("m.queue_badge", { n: items });
  me.showQueue(items, rows.length - items);
}

// ---- pairing ------------------------------------------------------------------------
function showPair() {
  $("#gw-main").hidden = true;
  $("#gw-pair").hidden = false;
  $("#gw-code").focus();
}

function pairError(text) {
  const p = $("#gw-pair-error");
  p.hidden = !text;
  p.textContent = text || "";
}

async function pair(ev) {
  ev.preventDefault();
  if (!app.cfg) { window.location.reload(); return; } // the settings never came: try again
  const code = $("#gw-code").value.trim();
  if (!/^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$/.test(code)) { pairError(T("m.pair.err.format")); return; }
  const btn = $("#gw-pair-go");
  btn.disabled = true;
  try {
    const r = await fetch("/m/pair", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }), credentials: "same-origin",
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { pairError(T(`m.pair.err.${body.error || "wrong"}`, { s: body.wait_s || 0 })); return; }
    app.pairing = body;
    await store.setKv("pairing", body);
    pairError("");
    $("#gw-code").value = "";
    await startMain(true);
  } catch (e) {
    pairError(T("m.pair.err.offline"));
  } finally {
    btn.disabled = false;
  }
}

export async function unpair() {
  if (app.link) app.link.stop();
  app.link = null;
  if (app.watch !== undefined) navigator.geolocation.clearWatch(app.watch);
  clearInterval(app.timer);
  await store.wipe();
  app.pairing = null;
  showPair();
}

// ---- position -----------------------------------------------------------------------
function onFix(p) {
  const c = p.coords;
  app.fix = { lat: c.latitude, lon: c.longitude, accuracy: c.accuracy,
              speed: c.speed, heading: c.heading, ts: p.timestamp / 1000 };
  app.posError = "";
  report.showWhere();
  me.showPosition();
  tasks.render();
  if (app.now() - app.lastPositionTs >= app.cfg.position_s - 0.5) reportPosition();
}

function onFixError(err) {
  app.posError = err.code === 1 ? "m.pos.denied" : "m.pos.unavailable";
  me.showPosition();
  report.showWhere();
}

async function reportPosition() {
  const f = app.fix;
  const now = app.now();
  if (!f || !app.duty || now - f.ts > Math.max(FIX_FRESH_S, 2 * app.cfg.position_s)) return;
  app.lastPositionTs = now;
  const msg = { type: "position", msg_id: newId("p"), officer_id: app.pairing.officer_id,
                ts: Math.round(now * 1000) / 1000, lat: f.lat, lon: f.lon };
  if (Number.isFinite(f.accuracy)) msg.accuracy_m = Math.min(100000, Math.round(f.accuracy));
  if (Number.isFinite(f.speed) && f.speed >= 0) msg.speed_mps = Math.min(200, f.speed);
  if (Number.isFinite(f.heading) && f.heading >= 0) msg.heading_deg = f.heading % 360;
  if (app.battery !== null) msg.battery = app.battery;
  await store.trimPositions(MAX_QUEUED_POSITIONS - 1);
  await send(msg);
}

function startPosition() {
  if (!("geolocation" in navigator)) { app.posError = "m.pos.unavailable"; return; }
  if (!window.isSecureContext) { app.posError = "m.pos.insecure"; return; }
  app.watch = navigator.geolocation.watchPosition(onFix, onFixError,
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 });
  app.timer = setInterval(reportPosition, app.cfg.position_s * 1000);
  if (navigator.getBattery) {
    navigator.getBattery().then((b) => {
      const read = () => { app.battery = Math.round(b.level * 100); };
      read();
      b.addEventListener("levelchange", read);
    }).catch(() => {});
  }
}

// ---- the link -----------------------------------------------------------------------
function onState(state) {
  const box = $("#gw-conn");
  box.className = `gw-conn gw-conn--${state}`;
  box.dataset.state = state;
  $("#gw-conn-text").textContent = T(`m.conn.${state}`);
  if (app.pairing) me.renderDuty();
}

async function onAck(msgId, row) {
  if (!row) return;
  if (row.msg.type === "position") app.lastSentTs = row.msg.ts;
  await tasks.acked(row.msg);
  await report.acked(row.msg);
  await refreshQueue();
  me.showPosition();
}

async function onNack(msgId, reason, row) {
  const msg = row ? row.msg : { type: "other" };
  await store.put("problems", { msg_id: msgId, type: msg.type, label: row ? row.label : "",
                                error: reason, ts: app.now() });
  await tasks.refused(msg, reason);
  await report.refused(msg, reason);
  toast(T("m.nack", { reason }), "error", 8000);
  await refreshQueue();
  me.renderProblems();
}

/** The gateway keeps refusing the socket: ask the dashboard whether the token still holds;
 *  a revoked or re-registered device goes back to pairing (the gateway only says 401). */
async function onFailing() {
  let r;
  try {
    r = await fetch("/m/device", { headers: { Authorization: `Bearer ${app.pairing.token}` },
                                   cache: "no-store" });
  } catch (e) {
    return; // the dashboard is not reachable either: keep trying
  }
  if (r.status !== 401) return;
  await unpair();
  pairError(T("m.pair.err.revoked"));
}

function startLink() {
  app.link = new Link({ url: app.cfg.gateway_url, token: app.pairing.token, onState,
                        onTask: tasks.receive, onAck, onNack, onFailing });
  app.link.connect(true);
}

// ---- screens ------------------------------------------------------------------------
function showView(id) {
  for (const v of document.querySelectorAll(".gw-view")) v.hidden = v.id !== id;
  for (const b of document.querySelectorAll(".gw-tab")) {
    b.classList.toggle("gw-tab--on", b.dataset.view === id);
  }
  window.scrollTo(0, 0);
  if (id === "v-tasks") tasks.seen();
}

function renderAll() {
  me.render();
  tasks.render();
  report.render();
  onState(app.link ? app.link.state : "connecting");
  refreshQueue();
}

async function startMain(fresh) {
  $("#gw-pair").hidden = true;
  $("#gw-main").hidden = false;
  app.duty = await store.getKv("duty", true);
  renderAll();
  startLink();
  startPosition();
  if (fresh) await me.setDuty(true);
  showView("v-tasks");
}

function wire() {
  $("#gw-pair-form").addEventListener("submit", pair);
  for (const b of document.querySelectorAll(".gw-lang-switch")) b.addEventListener("click", switchLang);
  for (const b of document.querySelectorAll(".gw-tab")) {
    b.addEventListener("click", () => showView(b.dataset.view));
  }
  document.addEventListener("pointerdown", () => tasks.unlockSound(), { once: true });
  tasks.init(app);
  report.init(app);
  me.init(app, unpair);
}

async function boot() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch(() => {});
  }
  app.cfg = await loadJson("/m/config.json", "cfg");
  await useLang(localStorage.getItem(LANG_KEY) || (app.cfg && app.cfg.default_lang) || "zh");
  wire();
  if (!app.cfg) { // never reached the server yet: nothing to work with until it answers
    $("#gw-boot").hidden = true;
    showPair();
    pairError(T("m.pair.err.offline"));
    window.addEventListener("online", () => window.location.reload(), { once: true });
    return;
  }
  $("#gw-boot").hidden = true;
  app.pairing = await store.getKv("pairing");
  if (app.pairing) await startMain(false);
  else showPair();
  document.body.dataset.ready = "1";
}

boot();

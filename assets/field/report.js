// A new case from the field: category, title, description, photos and the phone's position
// as an `incident` message and `attachment` messages, through the outbox.
import * as store from "./store.js";
import { $, T, clock, h, newId, toast } from "./dom.js";
import { addPhotos } from "./tasks.js";

let app = null;
let chosen = "";
const pics = [];

export function init(a) {
  app = a;
  $("#gw-report").addEventListener("submit", submit);
  $("#gw-r-file").addEventListener("change", (ev) => addPhotos(ev.target, "#gw-r-photos", pics));
}

function chip(code) {
  return h("button", {
    type: "button", role: "radio", class: `gw-chip${code === chosen ? " gw-chip--on" : ""}`,
    "aria-checked": code === chosen ? "true" : "false", dataset: { category: code },
    onclick: () => { chosen = code; renderChips(); } }, T(`cat.${code}`));
}

function renderChips() {
  $("#gw-cats").replaceChildren(...(app.cfg.categories || []).map(chip));
}

export function showWhere() {
  const p = $("#gw-r-where");
  const f = app.fix;
  if (f) {
    p.textContent = T("m.report.where", { acc: Math.round(f.accuracy || 0) });
    p.className = "gw-where gw-where--ok";
  } else {
    p.textContent = T(app.posError || "m.report.where_wait");
    p.className = "gw-where gw-where--wait";
  }
}

function fail(key) {
  const p = $("#gw-r-error");
  p.textContent = T(key);
  p.hidden = false;
}

async function submit(ev) {
  ev.preventDefault();
  const title = $("#gw-r-title").value.trim();
  const description = $("#gw-r-desc").value.trim();
  if (!chosen) return fail("m.report.need_category");
  if (!title) return fail("m.report.need_title");
  if (!app.fix) return fail("m.report.no_fix");
  $("#gw-r-error").hidden = true;
  const ts = Math.round(app.now() * 1000) / 1000;
  const officer = app.pairing.officer_id;
  const incidentId = newId(`M-${officer}`).slice(0, 64);
  const msg = { type: "incident", msg_id: newId("i"), incident_id: incidentId,
                officer_id: officer, ts, lat: app.fix.lat, lon: app.fix.lon, category: chosen,
                title };
  if (description) msg.description = description;
  const attachments = pics.splice(0).map((p) => {
    URL.revokeObjectURL(p.preview);
    return { type: "attachment", msg_id: newId("a"), incident_id: incidentId,
             officer_id: officer, ts, mime: p.mime, data: p.data };
  });
  // all ids pending before the first send, so an early ack finds its id in the stored record
  const rec = { incident_id: incidentId, title, category: chosen, ts, photos: attachments.length,
                pending: [msg.msg_id, ...attachments.map((a) => a.msg_id)], refused: "" };
  await store.put("reports", rec);
  await app.send(msg, title);
  for (const a of attachments) await app.send(a, T("m.photo"));
  chosen = "";
  $("#gw-report").reset();
  $("#gw-r-photos").replaceChildren();
  renderChips();
  await renderList();
  $("#gw-reports").scrollIntoView({ behavior: "smooth", block: "center" });
  toast(T(app.link && app.link.open ? "m.report.sent" : "m.saved_offline"), "ok");
}

async function update(msg, fn) {
  if (!msg.incident_id) return;
  const r = await store.get("reports", msg.incident_id);
  if (!r || !r.pending.includes(msg.msg_id)) return;
  r.pending = r.pending.filter((id) => id !== msg.msg_id);
  fn(r);
  await store.put("reports", r);
  await renderList();
}

export const acked = (msg) => update(msg, () => {});
export const refused = (msg, reason) => update(msg, (r) => { r.refused = reason; });

async function renderList() {
  const rows = (await store.all("reports")).sort((a, b) => b.ts - a.ts).slice(0, 30);
  $("#gw-reports-h").hidden = rows.length === 0;
  $("#gw-reports").replaceChildren(...rows.map((r) => {
    const sync = r.refused ? "refused" : r.pending.length ? "queued" : "sent";
    return h("li", { class: "gw-item", dataset: { incident: r.incident_id, sync } },
      h("div", { class: "gw-item-main" },
        h("strong", {}, r.title),
        h("span", {}, [T(`cat.${r.category}`), clock(r.ts),
                       r.photos ? T("m.photos_n", { n: r.photos }) : ""].filter(Boolean).join(" · "))),
      h("span", { class: `gw-sync gw-sync--${sync}` },
        sync === "refused" ? T("m.sync.refused", { reason: r.refused }) : T(`m.sync.${sync}`)));
  }));
}

export function render() {
  renderChips();
  showWhere();
  renderList();
}

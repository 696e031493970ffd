// The "me" tab: who this phone is paired to, duty, position and what waits to be sent,
// messages the gateway refused (with its reason), language, unpairing.
import * as store from "./store.js";
import { $, T, clock, h, newId } from "./dom.js";

let app = null;
let queuedItems = 0;

export function init(a, unpair) {
  app = a;
  for (const b of document.querySelectorAll(".gw-duty-toggle")) {
    b.addEventListener("click", () => setDuty(!app.duty));
  }
  $("#gw-notify").addEventListener("click", async () => {
    await Notification.requestPermission();
    renderNotify();
  });
  $("#gw-unpair").addEventListener("click", async () => {
    const warn = queuedItems ? T("m.me.unpair_queued", { n: queuedItems }) : T("m.me.unpair_ask");
    if (window.confirm(warn)) await unpair();
  });
}

/** Go on or off duty: a `duty` message (positions are shared only on duty). */
export async function setDuty(on) {
  app.duty = on;
  await store.setKv("duty", on);
  await app.send({ type: "duty", msg_id: newId("d"), officer_id: app.pairing.officer_id,
                   ts: Math.round(app.now() * 1000) / 1000, on_duty: on },
                 T(on ? "m.duty.go_on" : "m.duty.go_off"));
  renderDuty();
}

export function renderDuty() {
  const b = $("#gw-duty");
  b.textContent = T(app.duty ? "m.duty.go_off" : "m.duty.go_on");
  b.className = `gw-btn gw-btn--block gw-duty-toggle ${app.duty ? "gw-btn--ghost" : "gw-btn--primary"}`;
  $("#gw-duty-off").hidden = app.duty;
  const offline = app.link && app.link.state !== "online";
  $("#gw-officer-sub").textContent = T(!app.duty ? "m.duty.off" : offline ? "m.duty.on_offline" : "m.duty.on");
}

export function showPosition() {
  const f = app.fix;
  $("#gw-me-pos").textContent = f
    ? T("m.me.fix", { lat: f.lat.toFixed(5), lon: f.lon.toFixed(5), acc: Math.round(f.accuracy || 0) })
    : T(app.posError || "m.report.where_wait");
  $("#gw-me-sent").textContent = app.lastSentTs ? clock(app.lastSentTs) : "—";
}

export function showQueue(items, positions) {
  queuedItems = items;
  $("#gw-me-queue").textContent = T("m.me.queue_n", { n: items, p: positions });
}

export async function renderProblems() {
  const rows = (await store.all("problems")).sort((a, b) => b.ts - a.ts).slice(0, 20);
  $("#gw-problems").replaceChildren(...rows.map((r) => h("li", { class: "gw-item gw-item--bad" },
    h("div", { class: "gw-item-main" },
      h("strong", {}, r.label || T(`m.msg.${r.type}`)),
      h("span", {}, `${clock(r.ts)} · ${r.error}`)))));
  $("#gw-problems-none").hidden = rows.length > 0;
}

function renderNotify() {
  const can = "Notification" in window;
  $("#gw-notify").hidden = !can || Notification.permission !== "default";
  $("#gw-notify-state").textContent = !can ? "—"
    : T(Notification.permission === "granted" ? "m.notify.on" : "m.notify.off");
}

export function render() {
  const p = app.pairing;
  $("#gw-officer").textContent = p.officer_name || p.officer_id;
  $("#gw-me-officer").textContent = [p.officer_name, p.officer_id, p.grid].filter(Boolean).join(" · ");
  $("#gw-me-device").textContent = p.device_id;
  renderDuty();
  showPosition();
  renderProblems();
  renderNotify();
}

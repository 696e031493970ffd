// Small DOM helpers of the field terminal: elements built with text only (field text is
// untrusted: never HTML), the catalogue's texts, formatting, toasts.
let texts = {};
let lang = "zh";

export function setTexts(next, nextLang) {
  texts = next || {};
  lang = nextLang;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : lang;
  if (texts["m.app"]) document.title = texts["m.app"];
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = T(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-placeholder]")) {
    el.placeholder = T(el.dataset.tPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-t-label]")) {
    el.setAttribute("aria-label", T(el.dataset.tLabel));
  }
}

export const currentLang = () => lang;

const pluralRules = {};

/** The catalogue's text of `key` with {fields} filled in (the key itself if missing); a plural
 *  message comes as its forms by CLDR plural category and takes the one for vars.n. */
export function T(key, vars) {
  let s = texts[key];
  if (s === undefined) return key;
  if (typeof s === "object") {
    const tag = document.documentElement.lang || "zh-CN";
    pluralRules[tag] ||= new Intl.PluralRules(tag);
    s = s[pluralRules[tag].select(Number(vars && vars.n) || 0)] || s.other;
  }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/** An element with attributes (class, dataset, on<event>, others) and children. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function clock(tsSeconds) {
  const d = new Date(tsSeconds * 1000);
  const today = new Date();
  const hm = d.toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB",
                                  { hour: "2-digit", minute: "2-digit" });
  if (d.toDateString() === today.toDateString()) return hm;
  const md = d.toLocaleDateString(lang === "zh" ? "zh-CN" : "en-GB",
                                  { month: "numeric", day: "numeric" });
  return `${md} ${hm}`;
}

/** Great-circle distance in metres. */
export function metres(aLat, aLon, bLat, bLon) {
  const r = Math.PI / 180;
  const x = Math.sin(((bLat - aLat) * r) / 2) ** 2
    + Math.cos(aLat * r) * Math.cos(bLat * r) * Math.sin(((bLon - aLon) * r) / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(x));
}

export function distance(m) {
  return m < 1000 ? T("m.dist_m", { n: Math.round(m) }) : T("m.dist_km", { n: (m / 1000).toFixed(1) });
}

let toastTimer = null;
/** A message at the bottom of the screen (kind: info, ok, warn, error). */
export function toast(text, kind = "info", ms = 4000) {
  const box = $("#gw-toast");
  box.textContent = text;
  box.className = `gw-toast gw-toast--${kind} gw-toast--show`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.className = "gw-toast"; }, ms);
}

/** A unique id for a message or a case: prefix, time and randomness (protocol id charset). */
export function newId(prefix) {
  const rnd = new Uint32Array(2);
  crypto.getRandomValues(rnd);
  return `${prefix}-${Date.now().toString(36)}-${rnd[0].toString(36)}${rnd[1].toString(36)}`;
}

// Service worker of the field terminal: keeps the app, its settings and texts on the phone so
// that it opens without a network; network first (fresh when online), the copy when not.
// Messages are queued by the page itself (IndexedDB outbox) and sent when the link is back.
const CACHE = "gw-field-v1";
const SHELL = [
  "/m/", "/m/manifest.webmanifest", "/m/config.json", "/m/i18n/zh.json", "/m/i18n/en.json",
  "/m/static/field.css", "/m/static/app.js", "/m/static/store.js", "/m/static/link.js",
  "/m/static/dom.js", "/m/static/tasks.js", "/m/static/report.js", "/m/static/me.js",
  "/m/static/photos.js", "/m/static/icons/icon-192.png", "/m/static/icons/icon-512.png",
  "/m/static/icons/maskable-512.png", "/m/static/icons/tasks.svg",
  "/m/static/icons/report.svg", "/m/static/icons/me.svg", "/m/static/icons/camera.svg",
  "/m/static/icons/pin.svg",
];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const fresh = await fetch(request);
    if (fresh.ok) cache.put(request, fresh.clone());
    return fresh;
  } catch (e) {
    const copy = await cache.match(request, { ignoreSearch: request.mode === "navigate" });
    if (copy) return copy;
    if (request.mode === "navigate") return (await cache.match("/m/")) || Response.error();
    return Response.error();
  }
}

self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/m/")) return;
  ev.respondWith(networkFirst(ev.request));
});

self.addEventListener("notificationclick", (ev) => {
  ev.notification.close();
  ev.waitUntil(self.clients.matchAll({ type: "window" }).then((list) => {
    const open = list.find((c) => new URL(c.url).pathname.startsWith("/m/"));
    return open ? open.focus() : self.clients.openWindow("/m/");
  }));
});

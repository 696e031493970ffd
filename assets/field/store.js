// The field terminal's local store (IndexedDB): settings, the outbox of messages not yet
// acked by the gateway, the officer's tasks, own reports and refused messages.
const DB_NAME = "gridwatch-field";
const STORES = {
  kv: { keyPath: "k" },
  outbox: { keyPath: "msg_id" },
  tasks: { keyPath: "incident_id" },
  reports: { keyPath: "incident_id" },
  problems: { keyPath: "msg_id" },
};
let dbPromise = null;
let seqBase = Date.now() * 1000;

function open() {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      for (const [name, opts] of Object.entries(STORES)) {
        if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name, opts);
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(name, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(name, mode);
    let out;
    Promise.resolve(fn(t.objectStore(name))).then((v) => { out = v; });
    t.oncomplete = () => resolve(out);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export const get = (name, key) => tx(name, "readonly", (s) => done(s.get(key)));
export const all = (name) => tx(name, "readonly", (s) => done(s.getAll()));
export const put = (name, value) => tx(name, "readwrite", (s) => done(s.put(value)));
export const del = (name, key) => tx(name, "readwrite", (s) => done(s.delete(key)));
export const clear = (name) => tx(name, "readwrite", (s) => done(s.clear()));

export async function getKv(k, fallback = null) {
  const row = await get("kv", k);
  return row ? row.v : fallback;
}
export const setKv = (k, v) => put("kv", { k, v });

/** Queue a message for the gateway; it stays until the gateway acks its msg_id. */
export async function enqueue(msg, label = "") {
  seqBase += 1;
  await put("outbox", { msg_id: msg.msg_id, seq: seqBase, msg, label, queued: Date.now() });
  return msg.msg_id;
}

/** The outbox in the order the messages were queued. */
export async function queued() {
  const rows = await all("outbox");
  return rows.sort((a, b) => a.seq - b.seq);
}

/** Drop the oldest queued positions beyond `keep` (hours offline must not fill the phone). */
export async function trimPositions(keep) {
  const pos = (await queued()).filter((r) => r.msg.type === "position");
  for (const r of pos.slice(0, Math.max(0, pos.length - keep))) await del("outbox", r.msg_id);
}

/** Forget everything (unpairing). */
export async function wipe() {
  for (const name of Object.keys(STORES)) await clear(name);
}

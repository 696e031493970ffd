// Terminal protocol v1 over one WebSocket: sends the outbox in order (each message until the
// gateway acks its msg_id: the same msg_id on every try, so the gateway drops doubles),
// receives tasks and acks each one once it is stored on the phone.
import * as store from "./store.js";

const RETRY_LATER = /retry later|unavailable/i; // a nack worth trying again
const MAX_WAIT_MS = 30000;
const MAX_BATCH = 200; // positions per frame (the gateway takes up to 2000)

export class Link {
  constructor({ url, token, onState, onTask, onAck, onNack, onFailing }) {
    this.url = url;
    this.token = token;
    this.handlers = { onState, onTask, onAck, onNack, onFailing };
    this.failures = 0; // connections in a row that never opened
    this.ws = null;
    this.state = "closed";
    this.inFlight = new Set();
    this.wait = 1000;
    this.timer = null;
    this.stopped = false;
    this.received = Promise.resolve();
    window.addEventListener("online", () => this.connect(true));
    window.addEventListener("offline", () => this.drop("offline"));
  }

  setState(state) {
    this.state = state;
    this.handlers.onState(state);
  }

  connect(now = false) {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    if (!navigator.onLine) { this.setState("offline"); return; }
    if (now) this.wait = 1000;
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(`${this.url}?token=${encodeURIComponent(this.token)}`);
    } catch (e) {
      this.later();
      return;
    }
    this.ws = ws;
    ws.onopen = () => { this.wait = 1000; this.failures = 0; this.setState("online"); this.flush(); };
    // one frame at a time: handlers read, change and store a record, and two acks handled
    // side by side would each store their own copy (one id would stay pending for ever)
    ws.onmessage = (ev) => { this.received = this.received.then(() => this.receive(ev.data)); };
    let opened = false;
    ws.addEventListener("open", () => { opened = true; });
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.inFlight.clear();
      if (!opened && navigator.onLine && ++this.failures % 3 === 0) this.handlers.onFailing();
      if (ev.code === 1008 || ev.code === 4001) { this.setState("refused"); return; }
      this.setState(navigator.onLine ? "closed" : "offline");
      this.later();
    };
    ws.onerror = () => {}; // onclose follows
  }

  later() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.wait);
    this.wait = Math.min(MAX_WAIT_MS, this.wait * 2);
  }

  drop(state) {
    const ws = this.ws;
    this.ws = null;
    this.inFlight.clear();
    if (ws) { try { ws.close(); } catch (e) { /* already closing */ } }
    this.setState(state);
    if (state !== "offline") this.later();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.drop("closed");
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send whatever the outbox holds that is not on its way already, oldest first; runs of
   *  positions (hours of them after a long time offline) go as one JSON array per frame. */
  async flush() {
    if (!this.open) return;
    let batch = [];
    const sendBatch = () => {
      if (batch.length) this.ws.send(JSON.stringify(batch.length === 1 ? batch[0] : batch));
      batch = [];
    };
    for (const row of await store.queued()) {
      if (!this.open) return;
      if (this.inFlight.has(row.msg_id)) continue;
      this.inFlight.add(row.msg_id);
      if (row.msg.type === "position" && batch.length < MAX_BATCH) { batch.push(row.msg); continue; }
      sendBatch();
      if (row.msg.type === "position") batch.push(row.msg);
      else this.ws.send(JSON.stringify(row.msg));
    }
    if (this.open) sendBatch();
  }

  async receive(data) {
    try { await this.receiveFrame(data); } catch (e) { console.error("gridwatch: frame", e); }
  }

  async receiveFrame(data) {
    let value;
    try { value = JSON.parse(data); } catch (e) { return; }
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item && typeof item === "object") await this.one(item);
    }
  }

  async one(item) {
    if (item.type === "task" && item.msg_id) {
      await this.handlers.onTask(item); // stored first, then acked
      if (this.open) this.ws.send(JSON.stringify({ ack: item.msg_id }));
    } else if (typeof item.ack === "string") {
      this.inFlight.delete(item.ack);
      const row = await store.get("outbox", item.ack);
      await store.del("outbox", item.ack);
      this.handlers.onAck(item.ack, row);
    } else if (typeof item.nack === "string") {
      this.inFlight.delete(item.nack);
      const row = await store.get("outbox", item.nack);
      if (RETRY_LATER.test(item.error || "")) {
        setTimeout(() => this.flush(), 5000);
        return;
      }
      await store.del("outbox", item.nack);
      this.handlers.onNack(item.nack, item.error || "", row);
    }
  }
}

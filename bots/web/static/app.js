// minime playground: a chat with the bot. Talks to the local server only (no external resources).
"use strict";
const chat = document.getElementById("chat");
const text = document.getElementById("text");
const jobs = new Map(); // job id -> status bubble
let currentResult = null;

// The page speaks the browser's language: GET /api/texts gives core's catalogue for it (gettext, Babel); messages
// are marked _("…") (or N_("…") where they are only listed) so `make i18n` extracts them from this file.
let catalogue = {};
function _(message) { return catalogue[message] || message; }
function N_(message) { return message; }
function fill(message, values) { return message.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m)); }
const PAGE_TEXTS = [ // [selector, attribute, English]: the page's own words, translated once the catalogue is here
  ["#help-btn", "textContent", N_("Help")],
  [".tag", "textContent", N_("selfie → figurine, toy box, retro")],
  ["#themes", "aria-label", N_("Themes")],
  ["#snap", "textContent", N_("📸 Take selfie")],
  ["#camera-close", "textContent", N_("Cancel")],
  ["footer > label:first-of-type", "title", N_("Upload a selfie")],
  ["#camera-btn", "title", N_("Take a selfie with the camera")],
  ["footer > label:last-of-type", "title", N_("Check whether minime made an image")],
  ["#text", "placeholder", N_("Send a selfie, then type /figurine YourName or “warmer colors”")],
  ["#text", "aria-label", N_("Message")],
  ["#composer button", "textContent", N_("Send")],
  ["#drop", "textContent", N_("Drop your selfie")],
];

async function localise() {
  try {
    const found = await (await fetch("/api/texts")).json();
    catalogue = found.texts || {};
    document.documentElement.lang = found.lang || "en";
    document.documentElement.dir = found.dir || "ltr";
  } catch { return; } // English, as the page is written
  document.title = _("minime · playground");
  for (const [selector, attribute, english] of PAGE_TEXTS) {
    const element = document.querySelector(selector);
    if (!element) continue;
    if (attribute === "textContent") element.textContent = _(english);
    else element.setAttribute(attribute, _(english));
  }
}

function bubble(who, content, opts = {}) {
  const div = document.createElement("div");
  div.className = `msg ${who}` + (opts.error ? " error" : "");
  if (content) div.append(document.createTextNode(content));
  chat.append(div);
  chat.scrollTop = chat.scrollHeight;
  return div;
}

function resultBubble(target, { image, result, buttons = [], notes = [] }) {
  target.textContent = "";
  target.classList.remove("error");
  for (const note of notes) target.append(document.createTextNode(note));
  const img = document.createElement("img");
  img.className = "result";
  img.alt = _("Your minime image");
  img.src = image;
  img.dataset.result = result;
  img.addEventListener("click", () => window.open(image, "_blank"));
  img.addEventListener("load", () => { chat.scrollTop = chat.scrollHeight; });
  target.append(img);
  const row = document.createElement("div");
  row.className = "buttons";
  for (const b of buttons) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = b.label;
    btn.dataset.action = b.id;
    btn.addEventListener("click", () => (b.id === "another theme" ? showThemesHint()
      : b.sends ? showFigure(result, b.sends, b.label) : act(result, b.id, b.label)));
    row.append(btn);
  }
  const dl = document.createElement("a");
  dl.href = `${image}?download=1`;
  dl.textContent = _("⬇️ Download");
  dl.setAttribute("download", "");
  row.append(dl);
  target.append(row);
  currentResult = result;
  chat.scrollTop = chat.scrollHeight;
}

// The figure's files: the turning loop plays in the page; the 3D file opens in <model-viewer> (vendored, loaded on
// first use) with a download link.
const FIGURE_WAIT = { turntable: N_("🔄 Making your figure turn… (a few seconds)"), mesh: N_("🧊 Making your figure's 3D file… (a few seconds)") };
let modelViewer = null;

async function showFigure(result, kind, label) {
  bubble("me", label);
  const div = bubble("bot", FIGURE_WAIT[kind] ? _(FIGURE_WAIT[kind]) : "");
  const url = `/api/figure/${encodeURIComponent(result)}/${kind}`;
  let res;
  try { res = await fetch(url); } catch { res = null; }
  const type = res?.headers.get("Content-Type") || "";
  if (!res || !res.ok || type.startsWith("application/json")) {
    let message = _("Something went wrong. Please try again.");
    try { message = (await res.json()).messages[0].text; } catch { /* keep the general message */ }
    div.textContent = message;
    div.classList.add("error");
    return;
  }
  const file = URL.createObjectURL(await res.blob());
  div.textContent = "";
  div.classList.add("figure");
  if (kind === "turntable") {
    const video = document.createElement("video");
    Object.assign(video, { src: file, autoplay: true, loop: true, muted: true, playsInline: true });
    video.className = "turntable";
    video.setAttribute("aria-label", _("Your figure, turning"));
    div.append(video);
  } else {
    modelViewer ??= import("/static/vendor/model-viewer.min.js");
    try { await modelViewer; } catch { modelViewer = null; }
    const viewer = document.createElement("model-viewer");
    for (const [k, v] of Object.entries({ src: file, alt: _("Your figure in 3D: drag to turn it"), "camera-controls": "",
      "auto-rotate": "", "shadow-intensity": "1", "touch-action": "pan-y", loading: "eager" })) viewer.setAttribute(k, v);
    div.append(viewer);
    viewer.addEventListener("error", () => { div.prepend(document.createTextNode(_("This browser can't show 3D here; the download below still works."))); }, { once: true });
  }
  const row = document.createElement("div");
  row.className = "buttons";
  const dl = document.createElement("a");
  dl.href = `${url}?download=1`;
  dl.textContent = kind === "turntable" ? _("⬇️ Download the loop (MP4)") : _("⬇️ Download the 3D file (GLB)");
  dl.setAttribute("download", "");
  row.append(dl);
  div.append(row);
  chat.scrollTop = chat.scrollHeight;
}

function showThemesHint() {
  bubble("bot", _("Pick another look from the gallery below 👇"));
  document.getElementById("themes").scrollIntoView({ behavior: "smooth" });
}

function render(reply) {
  for (const m of reply.messages || []) {
    const div = bubble("bot", m.image ? "" : m.text, { error: m.error });
    if (m.image && m.result) resultBubble(div, m);
    else if (m.image) {
      div.append(document.createTextNode(m.text || ""));
      const img = document.createElement("img");
      img.className = "result";
      img.src = m.image;
      div.append(img);
    }
  }
  if (reply.job && !jobs.has(reply.job)) statusBubble(reply.job, _("Queued…"));
  if (reply.cancelled) endStatus(reply.cancelled.job, reply.cancelled.text);
  if (reply.forgotten) currentResult = null;
}

function statusBubble(job, label, percent = 0) {
  let div = jobs.get(job);
  if (!div) {
    div = bubble("bot", "");
    div.dataset.job = job;
    jobs.set(job, div);
  }
  div.textContent = label;
  const bar = document.createElement("div");
  bar.className = "progress";
  const fill = document.createElement("div");
  fill.style.width = `${percent}%`;
  bar.append(fill);
  div.append(bar);
  if (label) { // a queued or running job: its owner may call it off (the server checks it is this session's)
    const row = document.createElement("div");
    row.className = "buttons";
    const stop = document.createElement("button");
    stop.type = "button";
    stop.className = "cancel";
    stop.textContent = _("✖️ Cancel");
    stop.addEventListener("click", async () => {
      stop.disabled = true;
      render(await post("/api/cancel", { job }));
    });
    row.append(stop);
    div.append(row);
  }
  chat.scrollTop = chat.scrollHeight;
  return div;
}

// A job that ended without an image (cancelled, or failed): its status line says why, its Cancel button goes.
const ended = new Set(); // the event stream and the Cancel reply both say it: once is enough
function endStatus(job, message, error = false) {
  if (ended.has(job)) return;
  ended.add(job);
  const div = jobs.get(job) || bubble("bot", "");
  div.textContent = message;
  div.classList.toggle("error", error);
  jobs.delete(job);
}

async function post(url, body, isForm = false) {
  const res = await fetch(url, isForm ? { method: "POST", body } : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  try { return await res.json(); } catch { return { messages: [{ text: _("Something went wrong. Please try again."), error: true }] }; }
}

async function sendText(value) {
  bubble("me", value);
  render(await post("/api/message", { text: value }));
}

async function act(result, action, label) {
  bubble("me", label);
  render(await post("/api/action", { result, action }));
}

async function upload(file) {
  const me = bubble("me", "");
  if (file.type.startsWith("image/") && !/hei[cf]/.test(file.type)) {
    const img = document.createElement("img");
    img.className = "selfie";
    img.src = URL.createObjectURL(file);
    me.append(img);
  } else me.textContent = `📎 ${file.name}`;
  const form = new FormData();
  form.append("photo", file, file.name || "selfie.jpg");
  render(await post("/api/selfie", form, true));
}

document.getElementById("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = text.value.trim();
  if (!value) return;
  text.value = "";
  sendText(value);
});
document.getElementById("file").addEventListener("change", (e) => {
  if (e.target.files[0]) upload(e.target.files[0]);
  e.target.value = "";
});
document.getElementById("help-btn").addEventListener("click", () => sendText("/help"));
document.getElementById("verify-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  bubble("me", file.name ? fill(_("🔎 Did you make {file}?"), { file: file.name }) : _("🔎 Did you make this image?"));
  const form = new FormData();
  form.append("image", file, file.name || "image.jpg");
  render(await post("/api/verify", form, true));
});

// Drag and drop anywhere on the page.
const drop = document.getElementById("drop");
window.addEventListener("dragover", (e) => { e.preventDefault(); drop.hidden = false; });
window.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.hidden = true; });
window.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.hidden = true;
  if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
});

// Camera, where the browser allows it.
const camera = document.getElementById("camera");
const video = document.getElementById("camera-video");
let stream = null;
document.getElementById("camera-btn").addEventListener("click", async () => {
  if (!navigator.mediaDevices?.getUserMedia) { bubble("bot", _("This browser can't use the camera here. Upload a photo instead."), { error: true }); return; }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" } });
    video.srcObject = stream;
    camera.hidden = false;
  } catch { bubble("bot", _("I couldn't open the camera. Upload a photo instead."), { error: true }); }
});
function closeCamera() { camera.hidden = true; stream?.getTracks().forEach((t) => t.stop()); stream = null; }
document.getElementById("camera-close").addEventListener("click", closeCamera);
document.getElementById("snap").addEventListener("click", () => {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const ctx = canvas.getContext("2d");
  ctx.translate(canvas.width, 0); ctx.scale(-1, 1);
  ctx.drawImage(video, 0, 0);
  canvas.toBlob((blob) => { closeCamera(); upload(new File([blob], "camera.jpg", { type: "image/jpeg" })); }, "image/jpeg", 0.92);
});

// Theme gallery.
async function loadThemes() {
  const themes = await (await fetch("/api/themes")).json();
  const strip = document.getElementById("themes");
  for (const t of themes) {
    const card = document.createElement("button");
    card.type = "button";
    card.className = "theme";
    card.title = t.description;
    card.dataset.theme = t.id;
    const img = document.createElement("img");
    img.loading = "lazy";
    img.alt = t.title;
    img.src = t.preview;
    const label = document.createElement("span");
    label.textContent = t.title;
    card.append(img, label);
    card.addEventListener("click", () => {
      if (t.argument === "name") { text.value = `/${t.command} `; text.focus(); bubble("bot", fill(_("Type the name for your {look} after /{command} and press Send."), { look: t.title.toLowerCase(), command: t.command })); return; }
      sendText(`/${t.command}` + (t.variant ? ` ${t.variant}` : ""));
    });
    strip.append(card);
  }
}

// Progress and results arrive as Server-Sent Events.
function connect() {
  const events = new EventSource("/api/events");
  events.onmessage = (e) => {
    const ev = JSON.parse(e.data);
    if (ev.type === "hello") {
      if (!chat.childElementCount) {
        bubble("bot", _("Hi! I'm minime. Send me a selfie (📎, 📷 or drag it here), then pick a look below or type /help."));
        if (ev.image) resultBubble(bubble("bot", ""), ev);
      }
      if (ev.job) statusBubble(ev.job, _("Working on it…"));
      return;
    }
    if (ev.type === "queued") statusBubble(ev.job, ev.text);
    else if (ev.type === "rendering") statusBubble(ev.job, ev.text, ev.percent);
    else if (ev.type === "done") { resultBubble(statusBubble(ev.job, ""), ev); jobs.delete(ev.job); }
    else if (ev.type === "cancelled") endStatus(ev.job, ev.text);
    else if (ev.type === "failed") endStatus(ev.job, ev.text, true);
  };
}

localise().finally(() => { loadThemes(); connect(); });

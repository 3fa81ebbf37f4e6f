// The playground page: connects to the session's WebSocket, turns controls into messages and frames into pictures.
// The server owns the experiment; the page shows what it is told and asks for changes. When the connection drops
// it reconnects with backoff to the same session (or, after a server restart, sends back what it last showed).
// Server data reaches the page as text (textContent, DOM nodes), never as markup. Frames arrive as binary messages;
// the latest one is drawn at the next animation frame and any it replaced are skipped (latest wins).

import { buildNetwork, updateNetwork } from "./net.js";
import { drawAxes, drawChart, drawHeatmap, drawPoints, EXTENT } from "./plots.js";
import { layerTip, TIPS } from "./tips.js";
import { CLIENT_DEFAULTS, readUrl, writeUrl } from "./url.js";
import { decodeFrame } from "./wire.js";

const $ = (id) => document.getElementById(id);
const SESSION_KEY = "glassnet-playground-session";
const RETRY_MS = { first: 500, most: 10000 };
const HISTORY_KEPT = 1000; // loss-curve rows sent back to a restarted server
const TIP_DELAY_MS = 400; // how long the pointer rests on a control before its tip shows
const app = {
  socket: null, schema: null, settings: null, structure: null, data: { train: [], test: [] },
  client: { ...CLIENT_DEFAULTS }, history: [], frame: null, view: null, hovered: null, sample: 0,
  playing: false, chartScale: null, urlApplied: false, connection: "connecting", retries: 0, linkNotes: [],
  editing: null, pendingFrame: null, drawScheduled: false, rendered: 0,
  pending: {}, // slider values sent and not yet confirmed by a state: a state never moves a slider back under a key
};
window.playground = app; // for tests and the curious: the latest state and frame

/** An element with properties and children (strings become text nodes, never markup). */
function h(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Change a node's text only when it differs (rewriting the same text still costs the page a layout). */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function send(message) {
  if (app.socket && app.socket.readyState === WebSocket.OPEN) {
    app.socket.send(JSON.stringify(message));
    return true;
  }
  showMessage("Not connected to the server, so that change was not made; reconnecting…", "warning");
  return false;
}

function setSettings(settings) {
  send({ type: "set", settings });
}

function showMessage(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = !text;
}

// ----- the connection ----------------------------------------------------------------------------------------
function showConnection(state, detail = "") {
  app.connection = state;
  const badge = $("connection");
  badge.className = `connection ${state}`;
  badge.textContent = { connecting: "Connecting…", connected: "Connected", offline: "Offline" }[state];
  badge.title = detail || badge.textContent;
  document.body.classList.toggle("offline", state !== "connected");
  if (state !== "connected") {
    app.playing = false;
    showPlay(false);
  }
}

function connect() {
  const protocol = window.location.protocol === "https:" ? "wss" : "ws";
  const token = window.sessionStorage.getItem(SESSION_KEY);
  const query = token ? `?session=${encodeURIComponent(token)}` : "";
  const socket = new WebSocket(`${protocol}://${window.location.host}/ws${query}`);
  socket.binaryType = "arraybuffer";
  app.socket = socket;
  showConnection("connecting");
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", (event) => {
    if (app.socket !== socket) return;
    drawPendingFrame(); // the last frame's weights and epoch are what a restarted server gets back
    app.wasPlaying = app.wasPlaying || app.playing; // a restarted server picks up playing where it stopped
    const delay = Math.min(RETRY_MS.most, RETRY_MS.first * 2 ** app.retries) * (0.8 + 0.4 * Math.random());
    app.retries += 1;
    const why = event.reason ? `${event.reason} ` : "";
    showConnection("offline", `${why}Trying again soon; click to try now.`);
    const seconds = Math.max(1, Math.round(delay / 1000));
    showMessage(`${why}Lost the connection to the glassnet server; reconnecting in ${seconds} s…`, "warning");
    app.retryTimer = setTimeout(connect, delay);
  });
}

function reconnectNow() {
  if (app.connection !== "offline") return;
  clearTimeout(app.retryTimer);
  connect();
}

/** After a server restart: what the page last showed, for the new session to carry on from. */
function savedExperiment() {
  const step = Math.ceil(app.history.length / HISTORY_KEPT);
  const history = app.history.filter((_, i) => i % step === 0);
  return { type: "restore", settings: app.settings, weights: app.frame.weights, epoch: app.frame.epoch, history };
}

// ----- controls ---------------------------------------------------------------------------------------------
function optionLabel(name, value) {
  if (name === "dropout") return value === 0 ? "none" : String(value);
  if (name === "regularization") return { none: "None", l1: "L1", l2: "L2" }[value];
  return String(value).replace(/_/g, " ");
}

function populateControls() {
  for (const select of document.querySelectorAll("select[data-setting]")) {
    const spec = app.schema[select.dataset.setting];
    select.replaceChildren(...spec.choices.map((value) => {
      const option = document.createElement("option");
      option.value = String(value);
      option.textContent = optionLabel(select.dataset.setting, value);
      return option;
    }));
    select.addEventListener("change", () => {
      const value = spec.kind === "float" ? Number(select.value) : select.value;
      app.pending[select.dataset.setting] = value; // arrow keys on a focused list send a change each
      setSettings({ [select.dataset.setting]: value });
    });
  }
  for (const range of document.querySelectorAll("input[type=range][data-setting]")) {
    const spec = app.schema[range.dataset.setting];
    range.min = spec.low;
    range.max = spec.high;
    range.addEventListener("input", () => {
      document.querySelector(`output[data-for=${range.id}]`).textContent = range.value;
    });
    range.addEventListener("change", () => {
      app.pending[range.dataset.setting] = Number(range.value);
      setSettings({ [range.dataset.setting]: Number(range.value) });
    });
  }
  $("keep_initial_weights").addEventListener("change", (e) => setSettings({ keep_initial_weights: e.target.checked }));
  for (const box of document.querySelectorAll("input[data-client]")) {
    box.addEventListener("change", () => {
      app.client[box.dataset.client] = box.checked;
      saveUrl();
      drawData();
      drawOutput();
      showEquations(app.frame?.equations);
    });
  }
  $("play").addEventListener("click", () => send({ type: app.playing ? "pause" : "play" }));
  $("step").addEventListener("click", () => send({ type: "step" }));
  $("reset").addEventListener("click", () => send({ type: "reset" }));
  $("diverged-reset").addEventListener("click", () => send({ type: "reset" }));
  $("connection").addEventListener("click", reconnectNow);
  $("editor").addEventListener("submit", submitEdit);
  $("editor").addEventListener("keydown", (e) => { if (e.key === "Escape") closeEditor(); });
  $("editor-cancel").addEventListener("click", closeEditor);
  document.addEventListener("pointerdown", (e) => {
    if (!$("editor").hidden && !$("editor").contains(e.target) && !e.target.closest("path.link, .bias")) closeEditor();
  });
  $("regenerate").addEventListener("click", () => send({ type: "regenerate" }));
  $("add-layer").addEventListener("click", () => changeLayers(+1));
  $("remove-layer").addEventListener("click", () => changeLayers(-1));
  $("export").addEventListener("click", () => send({ type: "export" }));
  $("close-export").addEventListener("click", () => $("export-dialog").close());
  $("copy-code").addEventListener("click", () => navigator.clipboard?.writeText($("export-code").value));
  $("upload").addEventListener("change", uploadCsv);
  $("classroom").addEventListener("click", toggleHidePanel);
  setupHeatmapHover();
  setupChartHover();
  for (const [key, text] of Object.entries(TIPS)) {
    const node = document.querySelector(`[data-tip=${key}]`) ?? $(key);
    if (node) describe(node, key, text);
  }
}

// ----- tooltips: what a control does and what to try --------------------------------------------------------------
/** Give `node` its tip: shown below it on hover and keyboard focus, and its accessible description. */
function describe(node, key, text) {
  const id = `tip-${key}`;
  let holder = document.getElementById(id);
  if (!holder) holder = $("tips").appendChild(h("p", { id }));
  holder.textContent = text;
  node.setAttribute("aria-describedby", id);
  node.removeAttribute("title"); // the tip replaces the browser's own
  if (node.tipShown) return;
  node.tipShown = true;
  node.addEventListener("pointerenter", () => { // after a short rest, so that passing over a control shows nothing
    clearTimeout(app.tipTimer);
    app.tipTimer = setTimeout(() => showTip(node, holder.textContent), TIP_DELAY_MS);
  });
  node.addEventListener("focusin", (event) => { // the keyboard's focus at once (a click's focus shows nothing)
    if (event.target.matches(":focus-visible")) showTip(node, holder.textContent);
  });
  node.addEventListener("pointerleave", hideTip);
  node.addEventListener("focusout", hideTip);
}

function showTip(node, text) {
  const tip = $("tip");
  tip.textContent = text;
  tip.hidden = false;
  const box = node.getBoundingClientRect();
  const width = tip.offsetWidth;
  const left = Math.max(4, Math.min(box.left, document.documentElement.clientWidth - width - 4));
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${box.bottom + window.scrollY + 6}px`;
}

function hideTip() {
  clearTimeout(app.tipTimer);
  $("tip").hidden = true;
}

function changeLayers(delta) {
  const layers = [...app.settings.layers];
  if (delta > 0 && layers.length < app.schema.layers.high) layers.push(layers.length ? layers[layers.length - 1] : 4);
  if (delta < 0 && layers.length > 0) layers.pop();
  setSettings({ layers, layer_activations: app.settings.layer_activations.slice(0, layers.length) });
}

async function uploadCsv(event) {
  const file = event.target.files[0];
  if (!file) return;
  send({ type: "upload", csv: await file.text() });
  event.target.value = "";
}

function showSettings() {
  const s = app.settings;
  for (const control of document.querySelectorAll("[data-setting]")) {
    const name = control.dataset.setting;
    const value = s[name];
    if (name in app.pending) { // the learner moved it since: keep their value until the server has it
      if (app.pending[name] !== value) continue;
      delete app.pending[name];
    }
    if (control.type === "checkbox") control.checked = value;
    else control.value = String(value);
    const out = document.querySelector(`output[data-for=${control.id}]`);
    if (out) out.textContent = String(value);
  }
  for (const box of document.querySelectorAll("input[data-client]")) box.checked = app.client[box.dataset.client];
  $("layer-count").textContent = s.layers.length;
  $("layer-noun").textContent = s.layers.length === 1 ? "hidden layer" : "hidden layers";
  $("add-layer").disabled = s.layers.length >= app.schema.layers.high;
  $("remove-layer").disabled = s.layers.length === 0;
  $("loss").disabled = s.problem === "regression";
  applyHidden();
}

function saveUrl() {
  if (app.urlApplied) writeUrl(app.schema, app.settings, app.client);
}

// ----- classroom: hide controls ------------------------------------------------------------------------------
function applyHidden() {
  for (const node of document.querySelectorAll("[data-hide]")) {
    node.classList.toggle("hidden-control", app.client.hide.includes(node.dataset.hide));
  }
}

function toggleHidePanel() {
  const panel = $("hide-panel");
  if (!panel.hidden) {
    panel.hidden = true;
    return;
  }
  const names = [...new Set([...document.querySelectorAll("[data-hide]")].map((n) => n.dataset.hide))];
  panel.replaceChildren(Object.assign(document.createElement("p"), {
    textContent: "Tick the controls a classroom link hides; the URL keeps the choice.", className: "hint" }));
  for (const name of names) {
    const label = document.createElement("label");
    label.className = "check";
    const box = Object.assign(document.createElement("input"), { type: "checkbox",
      checked: app.client.hide.includes(name) });
    box.addEventListener("change", () => {
      app.client.hide = box.checked ? [...app.client.hide, name] : app.client.hide.filter((n) => n !== name);
      applyHidden();
      saveUrl();
    });
    label.append(box, ` ${name.replace(/_/g, " ")}`);
    panel.appendChild(label);
  }
  panel.hidden = false;
}

// ----- datasets ----------------------------------------------------------------------------------------------
function showDatasets(previews) {
  const root = $("datasets");
  root.replaceChildren();
  for (const [name, points] of Object.entries(previews)) {
    const card = document.createElement("button");
    card.className = `dataset${name === app.settings.dataset ? " selected" : ""}`;
    card.title = name.replace(/_/g, " ");
    card.dataset.dataset = name;
    const canvas = Object.assign(document.createElement("canvas"), { width: 48, height: 48 });
    drawPoints(canvas, points, [], false);
    card.append(canvas, Object.assign(document.createElement("span"), { textContent: card.title }));
    card.addEventListener("click", () => setSettings({ dataset: name }));
    root.appendChild(card);
  }
}

// ----- network -----------------------------------------------------------------------------------------------
function showNetwork() {
  app.networkWidth = $("network").clientWidth;
  app.view = buildNetwork($("network"), app.structure, {
    toggleFeature: (name) => {
      const features = app.settings.features.includes(name)
        ? app.settings.features.filter((f) => f !== name) : [...app.settings.features, name];
      if (features.length === 0) {
        showMessage("Keep at least one input feature: the network needs something to look at.", "notice");
        return;
      }
      setSettings({ features });
    },
    changeNeurons: (layer, delta) => {
      const layers = [...app.settings.layers];
      layers[layer] = Math.max(1, Math.min(app.structure.max_neurons, layers[layer] + delta));
      setSettings({ layers });
    },
    setLayerActivation: (layer, name) => {
      const own = app.structure.activations.slice();
      own[layer] = name;
      setSettings({ layer_activations: own });
    },
    hoverNode: (column, index) => {
      app.hovered = column === null ? null : [column, index];
      if (column !== null && column > 0) send({ type: "inspect", column, neuron: index, sample: app.sample });
      drawOutput();
    },
    edit: openEditor,
    tooltip: showTooltip,
  });
  for (const head of document.querySelectorAll(".layer-head")) {
    const layer = Number(head.dataset.layer);
    describe(head.querySelector(".add-neuron"), `add-${layer}`, layerTip("add", layer));
    describe(head.querySelector(".remove-neuron"), `remove-${layer}`, layerTip("remove", layer));
    describe(head.querySelector(".layer-activation"), `activation-${layer}`, layerTip("activation", layer));
  }
  if (app.frame) updateNetwork(app.view, app.frame, app.client.discretize);
}

function showTooltip(text, event) {
  const tip = $("tooltip");
  tip.hidden = !text;
  if (!text) return;
  tip.textContent = text;
  place(tip, event);
}

/** Put a floating box next to the pointer, inside the page's width. */
function place(box, event) {
  const width = box.offsetWidth || 160;
  box.style.left = `${Math.max(4, Math.min(event.pageX + 12, document.documentElement.clientWidth - width - 4))}px`;
  box.style.top = `${event.pageY + 12}px`;
}

// ----- the weight editor: a small form by the pointer (a click on a link or a bias) ------------------------------
function openEditor(target, event) {
  const form = $("editor");
  app.editing = target;
  $("editor-label").textContent = target.kind === "weight"
    ? `Weight from ${target.from + 1} to ${target.to + 1} (layer ${target.layer + 1})`
    : `Bias of neuron ${target.neuron + 1} (layer ${target.layer + 1})`;
  $("editor-value").value = target.value;
  $("editor-error").textContent = "";
  form.hidden = false;
  place(form, event);
  $("editor-value").focus();
  $("editor-value").select();
}

function closeEditor() {
  $("editor").hidden = true;
  app.editing = null;
}

function submitEdit(event) {
  event.preventDefault();
  const target = app.editing;
  const text = $("editor-value").value.trim();
  const value = Number(text);
  if (text === "" || !Number.isFinite(value) || Math.abs(value) > 1000) {
    $("editor-error").textContent = "Type a number from −1000 to 1000, like −0.5.";
    return;
  }
  if (target.kind === "weight") {
    send({ type: "set_weight", layer: target.layer, source: target.from, target: target.to, value });
  } else {
    send({ type: "set_bias", layer: target.layer, neuron: target.neuron, value });
  }
  closeEditor();
}

// ----- output column -----------------------------------------------------------------------------------------
/** The picture the big heatmap shows: the hovered feature's or neuron's thumbnail, or the output. */
function hoveredGrid() {
  const f = app.frame;
  const thumb = f.heatmaps.size ** 2;
  const unit = (codes, i) => codes.subarray(i * thumb, (i + 1) * thumb);
  if (!app.hovered) return [f.output.grid, "Output"];
  const [column, index] = app.hovered;
  if (column === 0) return [unit(f.heatmaps.features, index), `Feature ${app.structure.feature_labels[index]}`];
  if (column <= f.heatmaps.layers.length) {
    return [unit(f.heatmaps.layers[column - 1], index), `Layer ${column}, neuron ${index + 1}`];
  }
  return [f.output.grid, "Output"];
}

function drawData() {
  drawPoints($("points"), app.data.train, app.data.test, app.client.show_test);
}

function drawOutput() {
  if (!app.frame) return;
  const [grid, label] = hoveredGrid();
  drawHeatmap($("heatmap"), grid, app.client.discretize && label === "Output");
  setText($("heatmap-label"), label);
}

function setupHeatmapHover() {
  $("points").addEventListener("click", (event) => {
    const rect = event.target.getBoundingClientRect();
    const x1 = ((event.clientX - rect.left) / rect.width) * 2 * EXTENT - EXTENT;
    const x2 = EXTENT - ((event.clientY - rect.top) / rect.height) * 2 * EXTENT;
    let best = 0;
    app.data.train.forEach(([a, b], i) => {
      const [c, d] = app.data.train[best];
      if ((a - x1) ** 2 + (b - x2) ** 2 < (c - x1) ** 2 + (d - x2) ** 2) best = i;
    });
    app.sample = best;
    send({ type: "inspect", sample: best });
  });
}

function setupChartHover() {
  const canvas = $("chart");
  canvas.addEventListener("mousemove", (event) => {
    const scale = app.chartScale;
    if (!scale) return;
    const rect = canvas.getBoundingClientRect();
    const along = Math.max(0, Math.min(1, (event.clientX - rect.left - scale.left) / scale.plotWidth));
    const epoch = Math.round(scale.first + along * (scale.last - scale.first));
    const row = app.history.find((r) => r[0] >= epoch) || app.history[app.history.length - 1];
    const box = $("chart-readout");
    box.hidden = false;
    box.textContent = `epoch ${row[0]}: train ${fmt(row[1])}, test ${fmt(row[2])}`;
  });
  canvas.addEventListener("mouseleave", () => { $("chart-readout").hidden = true; });
}

/** A number for the page: fixed digits, or "—" where there is none (a diverged loss is not a number). */
function fmt(x, digits = 3) {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

function showMetrics(metrics) {
  const key = JSON.stringify(metrics);
  if (key === app.shownMetrics) return; // unchanged (most frames late in training)
  app.shownMetrics = key;
  const root = $("metrics");
  if (!metrics) {
    root.replaceChildren();
    return;
  }
  if ("test_rmse" in metrics) {
    root.replaceChildren(h("div", {}, "RMSE train ", h("b", { textContent: fmt(metrics.train_rmse) }), " · test ",
      h("b", { textContent: fmt(metrics.test_rmse) })));
    return;
  }
  const [[tn, fp], [fn, tp]] = metrics.confusion;
  const row = (...cells) => h("tr", {}, ...cells.map(([tag, text]) => h(tag, { textContent: String(text) })));
  root.replaceChildren(
    h("div", {}, "Accuracy train ", h("b", { textContent: `${fmt(100 * metrics.train_accuracy, 1)}%` }), " · test ",
      h("b", { textContent: `${fmt(100 * metrics.test_accuracy, 1)}%` })),
    h("table", { className: "confusion" }, h("caption", { textContent: "Confusion matrix (test)" }),
      row(["td", ""], ["th", "predicted 0"], ["th", "predicted 1"]),
      row(["th", "true 0"], ["td", tn], ["td", fp]), row(["th", "true 1"], ["td", fn], ["td", tp])),
  );
}

/** A number inside a sum: negative ones in parentheses. */
function term(x) {
  return x < 0 ? `(${fmt(x)})` : fmt(x);
}

/** a = g(z) written out for the neuron's activation, with its number. */
function activationText(name, z) {
  if (name === "tanh") return `a = tanh(z) = tanh(${fmt(z)}) = `;
  if (name === "relu") return `a = ReLU(z) = max(0, ${fmt(z)}) = `;
  if (name === "sigmoid") return `a = σ(z) = 1 / (1 + e^(−z)) = 1 / (1 + e^${term(-z)}) = `;
  if (name === "linear") return "a = z = ";
  return `a = ${name}(z) = `;
}

/**
 * "What's happening": the inspected neuron on one training point, as the course writes it — z = Σ w·a + b with every
 * product, a = g(z), and the backward values — with the numbers of the latest frame (live while training).
 */
function showEquations(eq) {
  const root = $("equations");
  $("explain-panel").hidden = !app.client.explain;
  if (!eq || !app.client.explain) return;
  const line = (...parts) => h("div", { className: "eq" }, ...parts);
  const bold = (text) => h("b", { textContent: text });
  const fromFeatures = eq.title.startsWith("Layer 1,") || app.settings.layers.length === 0;
  const { feature_labels: labels, all_features: all } = app.structure;
  const names = fromFeatures ? app.settings.features.map((f) => labels[all.indexOf(f)])
    : eq.a_in.map((_, i) => `a${i + 1}`);
  const products = eq.w.map((w, i) => `${term(w)}·${term(eq.a_in[i])}`).join(" + ");
  root.replaceChildren(
    h("h3", {}, `${eq.title} `, h("small", { textContent: `(${eq.activation})` })),
    h("p", { className: "hint", textContent: `on training point (${fmt(eq.point[0], 2)}, ${fmt(eq.point[1], 2)}), `
      + `label ${fmt(eq.label, 2)} — click the output picture to choose another` }),
    line(bold("Forward: "), "each input times its weight, summed with the bias, then the activation"),
    line(`z = Σ w·a + b = ${names.map((n, i) => `w${i + 1}·${n}`).join(" + ")} + b`),
    line(`  = ${products} + ${term(eq.b)} = `, bold(fmt(eq.z))),
    line(activationText(eq.activation, eq.z), bold(fmt(eq.a))),
    line(bold("Backward: "), "how the loss L changes with each number (training steps w ← w − η·∂L/∂w)"),
    line(eq.da === null ? "∂L/∂z = a − y (sigmoid fused with cross-entropy) = "
      : `∂L/∂a = ${fmt(eq.da, 4)}, ∂L/∂z = ∂L/∂a · g′(z) = `, bold(fmt(eq.dz, 4))),
    line(`∂L/∂w = ∂L/∂z · a = [${eq.dw.map((v) => fmt(v)).join(", ")}]`),
    line(`∂L/∂b = ∂L/∂z = ${fmt(eq.db, 4)}`),
  );
}

/** After NaN/inf: the banner with Reset, and Play disabled saying why. */
function showDivergence(diverged) {
  if (app.shownDivergence === (diverged?.message ?? null)) return; // unchanged: leave the page as it is
  app.shownDivergence = diverged?.message ?? null;
  $("diverged").hidden = !diverged;
  $("diverged-text").textContent = diverged ? diverged.message : "";
  $("play").disabled = Boolean(diverged);
  if (diverged) $("play").title = "Training diverged: press Reset to start again";
  else $("play").removeAttribute("title");
}

function showPlay(playing) {
  if (app.shownPlaying === playing) return;
  app.shownPlaying = playing;
  $("play").textContent = playing ? "❚❚" : "▶";
  $("play").classList.toggle("playing", playing);
  $("play").setAttribute("aria-label", playing ? "Pause" : "Run");
}

// ----- messages from the server ------------------------------------------------------------------------------
/** Every setting as the link gives it (the default where it names none). */
function linkSettings() {
  return Object.fromEntries(Object.entries(app.schema).map(([name, spec]) => [name,
    name in app.link ? app.link[name] : spec.default]));
}

function onState(message) {
  if (app.checkLink) { // a resumed session after a page load: the link, if it says otherwise, wins
    app.checkLink = false;
    const link = linkSettings();
    if (Object.keys(link).some((name) => JSON.stringify(link[name]) !== JSON.stringify(message.settings[name]))) {
      send({ type: "restore", settings: link });
    }
    send({ type: "ready" });
  }
  app.settings = message.settings;
  app.structure = message.network;
  app.data = message.data;
  app.playing = message.playing;
  showMessage("");
  showSettings();
  showDatasets(message.previews);
  showNetwork();
  drawData();
  drawOutput();
  saveUrl();
  const note = message.note;
  $("symmetry").hidden = !note;
  $("symmetry").textContent = note || "";
}

/** A frame arrived: keep its loss-curve rows at once, and draw it (or a newer one) at the next animation frame. */
function onFrame(frame) {
  if (frame.history_from === app.history.length && frame.history.length < 10000) { // a few new rows: append
    app.history.push(...frame.history);
  } else {
    app.history = app.history.slice(0, frame.history_from).concat(frame.history);
  }
  app.pendingFrame = frame;
  app.playing = frame.playing;
  if (!app.drawScheduled) {
    app.drawScheduled = true;
    requestAnimationFrame(drawPendingFrame);
  }
}

function drawPendingFrame() {
  app.drawScheduled = false;
  const frame = app.pendingFrame;
  app.pendingFrame = null;
  if (frame) showFrame(frame);
}

function showFrame(frame) {
  app.frame = frame;
  app.rendered += 1;
  showPlay(frame.playing && app.connection === "connected");
  showDivergence(frame.diverged);
  setText($("epoch"), String(frame.epoch).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2"));
  setText($("train-loss"), fmt(frame.train_loss));
  setText($("test-loss"), fmt(frame.test_loss));
  app.chartScale = drawChart($("chart"), app.history);
  if (app.view) updateNetwork(app.view, frame, app.client.discretize);
  drawOutput();
  showMetrics(frame.metrics);
  showEquations(frame.equations);
  if (frame.identical_layers.some(Boolean)) {
    const which = frame.identical_layers.map((same, i) => (same ? i + 1 : null)).filter(Boolean).join(", ");
    $("symmetry").hidden = false;
    $("symmetry").textContent = `Every unit of hidden layer ${which} computes the same function: the weights started`
      + " equal, so each unit gets the same gradient and they stay identical. Random initialization breaks this symmetry.";
  }
}

function onHello(message) {
  app.retries = 0;
  showConnection("connected");
  window.sessionStorage.setItem(SESSION_KEY, message.session);
  if (!app.schema) {
    app.schema = message.schema;
    populateControls();
  }
  if (!app.frame) { // the page's first connection: apply the link
    const url = readUrl(app.schema);
    app.client = url.client;
    app.linkNotes = url.ignored.map((text) => `${text}.`);
    app.link = url.settings;
    if (message.resumed) {
      app.checkLink = true; // a reload keeps the session; another link replaces it (onState compares)
      return;
    }
    if (Object.keys(url.settings).length) send({ type: "restore", settings: url.settings });
  } else if (!message.resumed) { // the server restarted: carry on from what the page shows, playing if it was
    send(savedExperiment());
    if (app.wasPlaying) send({ type: "play" });
  } // a resumed session keeps its own state, playing included
  app.wasPlaying = false;
  app.history = [];
  send({ type: "ready" });
}

function onMessage(event) {
  const message = typeof event.data === "string" ? JSON.parse(event.data) : decodeFrame(event.data);
  if (message.type === "hello") {
    onHello(message);
  } else if (message.type === "state") {
    onState(message);
  } else if (message.type === "frame") {
    onFrame(message);
  } else if (message.type === "ack") {
    if (!app.urlApplied && app.linkNotes.length) {
      showMessage(`Part of the link was ignored, the rest applied: ${app.linkNotes.join(" ")}`, "notice");
    }
    app.urlApplied = true;
    saveUrl();
  } else if (message.type === "error") {
    app.pending = {}; // a refused value: the controls show the server's again
    showMessage(message.message);
  } else if (message.type === "notice") {
    if (app.urlApplied) showMessage(message.message, "notice");
    else app.linkNotes.push(message.message); // shown with the link's own notes once it is applied
  } else if (message.type === "diverged") {
    showDivergence(message);
  } else if (message.type === "export") {
    $("export-code").value = message.code;
    $("export-dialog").showModal();
  }
}

window.addEventListener("error", (e) => {
  console.error(e.error || e.message);
  showMessage("Something went wrong on this page. Reload it to carry on: the link keeps your settings.");
});
window.addEventListener("online", reconnectNow);
window.addEventListener("resize", () => { // a phone turned sideways: lay the network out for the new width
  clearTimeout(app.resizeTimer);
  app.resizeTimer = setTimeout(() => {
    if (app.structure && $("network").clientWidth !== app.networkWidth) showNetwork();
  }, 200);
});
drawAxes($("axes"), $("heatmap").clientWidth);
connect();

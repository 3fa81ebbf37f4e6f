// The playground page: connects to the session's WebSocket, turns controls into messages and frames into pictures.
// The server owns the experiment; the page shows what it is told and asks for changes.

import { buildNetwork, updateNetwork } from "./net.js";
import { decodeGrid, drawChart, drawHeatmap, drawPoints, EXTENT } from "./plots.js";
import { CLIENT_DEFAULTS, readUrl, writeUrl } from "./url.js";

const $ = (id) => document.getElementById(id);
const app = {
  socket: null, schema: null, settings: null, structure: null, data: { train: [], test: [] },
  client: { ...CLIENT_DEFAULTS }, history: [], frame: null, view: null, hovered: null, sample: 0,
  playing: false, chartScale: null, urlApplied: false,
};
window.playground = app; // for tests and the curious: the latest state and frame

function send(message) {
  if (app.socket && app.socket.readyState === WebSocket.OPEN) app.socket.send(JSON.stringify(message));
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
    range.addEventListener("change", () => setSettings({ [range.dataset.setting]: Number(range.value) }));
  }
  $("keep_initial_weights").addEventListener("change", (e) => setSettings({ keep_initial_weights: e.target.checked }));
  for (const box of document.querySelectorAll("input[data-client]")) {
    box.addEventListener("change", () => {
      app.client[box.dataset.client] = box.checked;
      saveUrl();
      drawOutput();
    });
  }
  $("play").addEventListener("click", () => send({ type: app.playing ? "pause" : "play" }));
  $("step").addEventListener("click", () => send({ type: "step" }));
  $("reset").addEventListener("click", () => send({ type: "reset" }));
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
    const value = s[control.dataset.setting];
    if (control.type === "checkbox") control.checked = value;
    else control.value = String(value);
    const out = document.querySelector(`output[data-for=${control.id}]`);
    if (out) out.textContent = String(value);
  }
  for (const box of document.querySelectorAll("input[data-client]")) box.checked = app.client[box.dataset.client];
  $("layer-count").textContent = s.layers.length;
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
  app.view = buildNetwork($("network"), app.structure, {
    toggleFeature: (name) => {
      const features = app.settings.features.includes(name)
        ? app.settings.features.filter((f) => f !== name) : [...app.settings.features, name];
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
    editWeight: (layer, from, to, value) => send({ type: "set_weight", layer, source: from, target: to, value }),
    editBias: (layer, neuron, value) => send({ type: "set_bias", layer, neuron, value }),
    tooltip: showTooltip,
  });
  if (app.frame) updateNetwork(app.view, app.frame, app.client.discretize);
}

function showTooltip(text, event) {
  const tip = $("tooltip");
  tip.hidden = !text;
  if (!text) return;
  tip.textContent = text;
  tip.style.left = `${event.pageX + 12}px`;
  tip.style.top = `${event.pageY + 12}px`;
}

// ----- output column -----------------------------------------------------------------------------------------
function hoveredGrid() {
  const f = app.frame;
  if (!app.hovered) return [f.output.grid, "Output"];
  const [column, index] = app.hovered;
  if (column === 0) return [f.heatmaps.features[index], `Feature ${app.structure.feature_labels[index]}`];
  if (column <= f.heatmaps.layers.length) {
    return [f.heatmaps.layers[column - 1][index], `Layer ${column}, neuron ${index + 1}`];
  }
  return [f.output.grid, "Output"];
}

function drawOutput() {
  drawPoints($("points"), app.data.train, app.data.test, app.client.show_test);
  if (!app.frame) return;
  const [grid, label] = hoveredGrid();
  drawHeatmap($("heatmap"), decodeGrid(grid), app.client.discretize && label === "Output");
  $("heatmap-label").textContent = label;
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
    const epoch = Math.round(scale.first + ((event.clientX - rect.left) / rect.width) * (scale.last - scale.first));
    const row = app.history.find((r) => r[0] >= epoch) || app.history[app.history.length - 1];
    const box = $("chart-readout");
    box.hidden = false;
    box.textContent = `epoch ${row[0]}: train ${fmt(row[1])}, test ${fmt(row[2])}`;
  });
  canvas.addEventListener("mouseleave", () => { $("chart-readout").hidden = true; });
}

function fmt(x, digits = 3) {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function showMetrics(metrics) {
  const root = $("metrics");
  if (!metrics) {
    root.replaceChildren();
    return;
  }
  if ("test_rmse" in metrics) {
    root.innerHTML = `<div>RMSE train <b>${fmt(metrics.train_rmse)}</b> · test <b>${fmt(metrics.test_rmse)}</b></div>`;
    return;
  }
  const [[tn, fp], [fn, tp]] = metrics.confusion;
  root.innerHTML = `<div>Accuracy train <b>${fmt(100 * metrics.train_accuracy, 1)}%</b> · test
    <b>${fmt(100 * metrics.test_accuracy, 1)}%</b></div>
    <table class="confusion"><caption>Confusion matrix (test)</caption>
    <tr><th></th><th>predicted 0</th><th>predicted 1</th></tr>
    <tr><th>true 0</th><td>${tn}</td><td>${fp}</td></tr><tr><th>true 1</th><td>${fn}</td><td>${tp}</td></tr></table>`;
}

function vector(values) {
  return `[${values.map((v) => fmt(v)).join(", ")}]`;
}

function showEquations(eq) {
  const root = $("equations");
  if (!eq) return;
  root.innerHTML = `<h3>${eq.title} <small>(${eq.activation})</small></h3>
    <p class="hint">on training point (${fmt(eq.point[0], 2)}, ${fmt(eq.point[1], 2)}), label ${fmt(eq.label, 2)}
    — click the output picture to choose another</p>
    <div class="eq"><b>Forward</b></div>
    <div class="eq">z = w·a + b = ${vector(eq.w)}·${vector(eq.a_in)} + ${fmt(eq.b)} = <b>${fmt(eq.z)}</b></div>
    <div class="eq">a = ${eq.activation}(z) = <b>${fmt(eq.a)}</b></div>
    <div class="eq"><b>Backward</b></div>
    <div class="eq">${eq.da === null ? "∂L/∂z = a − y (sigmoid fused with cross-entropy)"
    : `∂L/∂a = ${fmt(eq.da, 4)}, ∂L/∂z = ∂L/∂a · g′(z)`} = <b>${fmt(eq.dz, 4)}</b></div>
    <div class="eq">∂L/∂w = ∂L/∂z · a = ${vector(eq.dw)}</div>
    <div class="eq">∂L/∂b = ∂L/∂z = ${fmt(eq.db, 4)}</div>`;
}

// ----- messages from the server ------------------------------------------------------------------------------
function onState(message) {
  app.settings = message.settings;
  app.structure = message.network;
  app.data = message.data;
  app.playing = message.playing;
  showMessage("");
  showSettings();
  showDatasets(message.previews);
  showNetwork();
  drawOutput();
  saveUrl();
  const note = message.note;
  $("symmetry").hidden = !note;
  $("symmetry").textContent = note || "";
}

function onFrame(frame) {
  app.frame = frame;
  app.playing = frame.playing;
  $("play").textContent = frame.playing ? "❚❚" : "▶";
  $("play").classList.toggle("playing", frame.playing);
  $("epoch").textContent = String(frame.epoch).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2");
  app.history = app.history.slice(0, frame.history_from).concat(frame.history);
  $("train-loss").textContent = fmt(frame.train_loss);
  $("test-loss").textContent = fmt(frame.test_loss);
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

function onMessage(event) {
  const message = JSON.parse(event.data);
  if (message.type === "hello") {
    app.schema = message.schema;
    populateControls();
    const url = readUrl(app.schema);
    app.client = url.client;
    if (Object.keys(url.settings).length) setSettings(url.settings);
    send({ type: "ready" });
  } else if (message.type === "state") {
    onState(message);
  } else if (message.type === "frame") {
    onFrame(message);
  } else if (message.type === "ack") {
    app.urlApplied = true;
    saveUrl();
  } else if (message.type === "error") {
    showMessage(message.message);
  } else if (message.type === "diverged") {
    showMessage(message.message, "warning");
  } else if (message.type === "export") {
    $("export-code").value = message.code;
    $("export-dialog").showModal();
  }
}

function connect() {
  const protocol = window.location.protocol === "https:" ? "wss" : "ws";
  app.socket = new WebSocket(`${protocol}://${window.location.host}/ws`);
  app.socket.addEventListener("message", onMessage);
  app.socket.addEventListener("close", () => showMessage("Disconnected from the glassnet server.", "warning"));
}

window.addEventListener("error", (e) => showMessage(`Page error: ${e.message}`));
connect();

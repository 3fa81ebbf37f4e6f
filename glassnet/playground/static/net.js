// The network column: feature and neuron thumbnails (heatmaps), links drawn by weight sign and size, biases,
// +/− buttons per layer and a per-layer activation. Built once per structure, refreshed on every frame. Links and
// thumbnails are painted on one canvas (hundreds of changing SVG curves and dozens of canvases cost the browser
// more than a frame's time); invisible SVG paths over the links take the pointer (hover shows the weight, a click
// edits it), as TF's do, and the nodes' boxes over the thumbnails take hovers and clicks.

import { cssColor, drawHeatmap } from "./plots.js";

const DIMMED = 0.3; // an inactive feature's thumbnail
// Off the page: every thumbnail of a frame stacked in one canvas (one putImageData a frame), and the output's grid.
const atlas = document.createElement("canvas");
const outputGrid = document.createElement("canvas");

const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, parent = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v; // through the CSSOM: the page's CSP refuses style attributes
    else node.setAttribute(k, v);
  }
  if (parent) parent.appendChild(node);
  return node;
}

/**
 * The weight a link is drawn with: to 1/32 within ±1 (the colour scale's range) and to 0.5 beyond (where only the
 * width still changes, by 0.9 px), so that a frame's few hundred links share a few dozen strokes.
 */
function linkLook(w) {
  return Math.abs(w) <= 1 ? Math.round(w * 32) / 32 : Math.sign(w) * Math.min(5, Math.round(Math.abs(w) * 2) / 2);
}

/** A weight or bias as the tooltip and the editor show it. */
function shown(value) {
  return value === undefined ? "" : value.toPrecision(3);
}

function svgEl(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  parent.appendChild(node);
  return node;
}

/**
 * Draw the network into `root` (feature thumbnails for every feature, active or not). `structure`: {all_features,
 * feature_labels, features, layers, activations,
 * activation_choices, max_neurons}. `handlers`: toggleFeature(name), changeNeurons(layer, delta),
 * setLayerActivation(layer, name), hoverNode(column, index | null), edit(target, event) (a click on a link,
 * target {kind: "weight", layer, from, to, value}, or on a bias, {kind: "bias", layer, neuron, value}),
 * tooltip(text, event | null).
 */
export function buildNetwork(root, structure, handlers) {
  root.replaceChildren();
  const { all_features: allFeatures, features, layers } = structure;
  const big = Math.max(allFeatures.length, ...layers) > 8;
  const width = root.clientWidth || 520;
  const columns = layers.length + 2;
  const left = 48; // room for the feature labels
  const room = (width - left - 24) / columns; // each column's share of the width (a phone's is small)
  const node = Math.max(16, Math.min(big ? 26 : 34, Math.floor(room * 0.6)));
  const gap = node + (big ? 10 : 14);
  const headWidth = Math.min(64, Math.floor(room + node / 2));
  const colX = (c) => left + (c * (width - left - 24 - node)) / (columns - 1);
  const top = window.matchMedia("(pointer: coarse)").matches ? 120 : 72; // below the layer heads' buttons
  const rowY = (i) => top + i * gap;
  const height = top + Math.max(allFeatures.length, ...layers, 1) * gap;
  root.style.height = `${height}px`;
  const canvas = el("canvas", { class: "links", "aria-hidden": "true", style: `width:${width}px;height:${height}px` },
    root);
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const svg = svgEl("svg", { width, height, class: "links" }, root);

  // Positions of every node, column by column: active features only feed the first layer.
  const positions = [features.map((f) => [colX(0), rowY(allFeatures.indexOf(f))])];
  layers.forEach((n, l) => positions.push(Array.from({ length: n }, (_, i) => [colX(l + 1), rowY(i)])));
  positions.push([[colX(columns - 1), rowY(0)]]);

  const links = [];
  for (let l = 0; l < positions.length - 1; l++) {
    const layerLinks = positions[l].map(([x1, y1], i) => positions[l + 1].map(([x2, y2], j) => {
      const a = [x1 + node, y1 + node / 2];
      const b = [x2, y2 + node / 2];
      const mx = (a[0] + b[0]) / 2;
      const path = svgEl("path", { d: `M${a[0]},${a[1]} C${mx},${a[1]} ${mx},${b[1]} ${b[0]},${b[1]}`,
        class: "link", "data-layer": l, "data-from": i, "data-to": j }, svg);
      path.curve = [a, mx, b];
      path.addEventListener("mousemove", (e) => handlers.tooltip(`weight ${shown(path.value)} (click to edit)`, e));
      path.addEventListener("mouseleave", () => handlers.tooltip(null, null));
      path.addEventListener("click", (e) => {
        handlers.tooltip(null, null);
        handlers.edit({ kind: "weight", layer: l, from: i, to: j, value: shown(path.value) }, e);
      });
      return path;
    }));
    links.push(layerLinks);
  }

  // Feature thumbnails: all of them, the inactive ones dimmed; a click toggles.
  const cells = [[], ...layers.map(() => []), []]; // where each column's thumbnails are painted
  const cell = (x, y, dim = false) => ({ x, y, size: node, dim });
  allFeatures.forEach((f, i) => {
    const active = features.includes(f);
    const box = el("div", { class: `node feature${active ? "" : " inactive"}`, title: "Click to toggle",
      style: `left:${colX(0)}px;top:${rowY(i)}px;width:${node}px;height:${node}px`, "data-feature": f,
      role: "switch", tabindex: 0, "aria-checked": String(active),
      "aria-label": `Feature ${structure.feature_labels[i]}` }, root);
    el("span", { class: "feature-label", text: structure.feature_labels[i] }, box);
    cells[0].push(cell(colX(0), rowY(i), !active));
    box.addEventListener("click", () => handlers.toggleFeature(f));
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        handlers.toggleFeature(f);
      }
    });
    hoverable(box, 0, i);
  });

  const biases = [];
  layers.forEach((n, l) => {
    const x = colX(l + 1);
    const head = el("div", { class: "layer-head", "data-layer": l,
      style: `left:${x + node / 2 - headWidth / 2}px;top:0px;width:${headWidth}px` }, root);
    const plus = el("button", { class: "mini add-neuron", title: "Add a neuron", text: "+",
      "aria-label": `Add a neuron to layer ${l + 1}` }, head);
    const minus = el("button", { class: "mini remove-neuron", title: "Remove a neuron", text: "−",
      "aria-label": `Remove a neuron from layer ${l + 1}` }, head);
    plus.disabled = n >= structure.max_neurons;
    minus.disabled = n <= 1;
    plus.addEventListener("click", () => handlers.changeNeurons(l, +1));
    minus.addEventListener("click", () => handlers.changeNeurons(l, -1));
    const select = el("select", { class: "layer-activation", "data-layer": l, title: "Activation of this layer",
      "aria-label": `Activation of layer ${l + 1}` }, head);
    for (const a of structure.activation_choices) el("option", { value: a, text: a }, select);
    select.value = structure.activations[l];
    select.addEventListener("change", () => handlers.setLayerActivation(l, select.value));
    el("div", { class: "layer-units", text: headWidth < 56 ? `${n}` : `${n} neuron${n === 1 ? "" : "s"}`,
      title: `${n} neuron${n === 1 ? "" : "s"}` }, head);
    biases.push(positions[l + 1].map(([px, py], i) => {
      const box = el("div", { class: "node neuron", "data-layer": l, "data-neuron": i, tabindex: 0, role: "img",
        "aria-label": `Layer ${l + 1}, neuron ${i + 1}: focus to see its computation`,
        style: `left:${px}px;top:${py}px;width:${node}px;height:${node}px` }, root);
      cells[l + 1].push(cell(px, py));
      hoverable(box, l + 1, i);
      return biasBox(box, l, i, px, py);
    }));
  });
  const [ox, oy] = positions[positions.length - 1][0];
  const out = el("div", { class: "node output-node", style: `left:${ox}px;top:${oy}px;width:${node}px;height:${node}px`,
    title: "Output", tabindex: 0, role: "img", "aria-label": "Output neuron: focus to see its computation" }, root);
  cells[cells.length - 1].push(cell(ox, oy));
  hoverable(out, layers.length + 1, 0);
  biases.push([biasBox(out, layers.length, 0, ox, oy)]);

  function hoverable(box, column, index) { // the pointer or the keyboard (Tab) shows a node's picture and numbers
    box.addEventListener("mouseenter", () => handlers.hoverNode(column, index));
    box.addEventListener("mouseleave", () => handlers.hoverNode(null, null));
    box.addEventListener("focus", () => handlers.hoverNode(column, index));
    box.addEventListener("blur", () => handlers.hoverNode(null, null));
  }

  function biasBox(box, layer, neuron, x, y) {
    const b = el("div", { class: "bias", title: "bias" }, box);
    // inside its 9 px box (style.css .bias: 6 px left of and below the node's 1 px border, a 1 px border of its own)
    b.place = { x: x - 4, y: y + node - 3, size: 7 };
    b.addEventListener("mousemove", (e) => {
      e.stopPropagation();
      handlers.tooltip(`bias ${shown(b.value)} (click to edit)`, e);
    });
    b.addEventListener("mouseleave", () => handlers.tooltip(null, null));
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      handlers.tooltip(null, null);
      handlers.edit({ kind: "bias", layer, neuron, value: shown(b.value) }, e);
    });
    return b;
  }

  return { links, biases, cells, canvas, ratio };
}

/**
 * Refresh links, biases and thumbnails from a frame. As on playground.tensorflow.org, a link's colour is its weight
 * on the colour scale (clamped to ±1), its width 1 + |w| · 1.8 (at most 10), dashed 9 on 1, and its dashes move
 * on by a third of a pixel each epoch, so the links flow while the network trains.
 */
export function updateNetwork(view, frame, discretize) {
  const ctx = view.canvas.getContext("2d");
  ctx.setTransform(view.ratio, 0, 0, view.ratio, 0, 0);
  ctx.clearRect(0, 0, view.canvas.width, view.canvas.height);
  ctx.setLineDash([9, 1]);
  ctx.lineDashOffset = -frame.epoch / 3;
  ctx.globalAlpha = 0.85;
  const groups = new Map(); // links of (nearly) the same weight are stroked together: one stroke per look
  frame.weights.forEach(({ kernel }, l) => {
    kernel.forEach((row, i) => row.forEach((w, j) => {
      const path = view.links[l]?.[i]?.[j];
      if (!path) return;
      path.value = w; // a property, not an attribute: 400 attribute writes a frame would cost a style pass
      const look = linkLook(w);
      if (!groups.has(look)) groups.set(look, []);
      groups.get(look).push(path.curve);
    }));
  });
  for (const [look, curves] of groups) {
    ctx.beginPath();
    for (const [a, mx, b] of curves) {
      ctx.moveTo(a[0], a[1]);
      ctx.bezierCurveTo(mx, a[1], mx, b[1], b[0], b[1]);
    }
    ctx.strokeStyle = cssColor(look);
    ctx.lineWidth = Math.min(10, 1 + Math.abs(look) * 1.8);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;
  frame.weights.forEach(({ bias }, l) => bias.forEach((b, j) => { // over the links, under its box (which takes
    const box = view.biases[l]?.[j]; //                                hovers and clicks)
    if (!box) return;
    box.value = b;
    ctx.fillStyle = cssColor(b);
    ctx.fillRect(box.place.x, box.place.y, box.place.size, box.place.size);
  }));
  const { features, layers, size } = frame.heatmaps;
  const columns = [features, ...layers];
  const stacked = new Uint8Array(columns.reduce((n, codes) => n + codes.length, 0));
  let offset = 0;
  for (const codes of columns) {
    stacked.set(codes, offset);
    offset += codes.length;
  }
  drawHeatmap(atlas, stacked, discretize, size);
  let row = 0;
  columns.forEach((codes, c) => {
    const count = codes.length / (size * size);
    view.cells[c]?.forEach((place, i) => {
      if (i < count) paintThumbnail(ctx, place, atlas, 0, (row + i) * size, size); // (a frame from before it grew)
    });
    row += count;
  });
  const out = view.cells[view.cells.length - 1][0];
  if (out) {
    drawHeatmap(outputGrid, frame.output.grid, discretize);
    paintThumbnail(ctx, out, outputGrid, 0, 0, frame.output.size);
  }
}

/** One thumbnail: the `size` × `size` square of `source` at (sx, sy), scaled smoothly into its box on white. */
function paintThumbnail(ctx, place, source, sx, sy, size) {
  ctx.globalAlpha = place.dim ? DIMMED : 1;
  ctx.fillStyle = "#fff";
  ctx.fillRect(place.x, place.y, place.size, place.size);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(source, sx, sy, size, size, place.x, place.y, place.size, place.size);
  ctx.globalAlpha = 1;
}

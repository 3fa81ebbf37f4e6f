// Drawing: the colour scale, heatmaps (the server's uint8 grids, one canvas pixel per grid point), data points, the
// heatmap's axes and the loss chart with its ticks.

const NEGATIVE = [245, 147, 34];   // −1: orange, as on playground.tensorflow.org
const MIDDLE = [232, 234, 235];    //  0: light grey
const POSITIVE = [8, 119, 189];    // +1: blue
const NUM_SHADES = 30;             // heatmaps use 31 shades of the scale, as there
const HEATMAP_ALPHA = 160;
export const EXTENT = 6;           // heatmaps cover [−6, 6]²

/** The colour of a value in [−1, 1] as [r, g, b]. */
export function color(v) {
  const t = Math.max(-1, Math.min(1, v));
  const [from, to, f] = t < 0 ? [MIDDLE, NEGATIVE, -t] : [MIDDLE, POSITIVE, t];
  return [0, 1, 2].map((i) => Math.round(from[i] + (to[i] - from[i]) * f));
}

export function cssColor(v) {
  const [r, g, b] = color(v);
  return `rgb(${r},${g},${b})`;
}

/** A uint8 code (round((v + 1) · 127.5)) as the value in [−1, 1] it stands for. */
export function decodeValue(code) {
  return code / 127.5 - 1;
}

/** Each code's RGBA pixel as one little-endian uint32 (quantized to the shades), for smooth and discretized. */
function shadeTable(discretize) {
  const table = new Uint32Array(256);
  for (let code = 0; code < 256; code++) {
    const v = decodeValue(code);
    const shade = discretize ? (v >= 0 ? 1 : -1)
      : -1 + (2 * Math.min(NUM_SHADES, Math.floor(((v + 1) / 2) * (NUM_SHADES + 1)))) / NUM_SHADES;
    const [r, g, b] = color(shade);
    table[code] = ((HEATMAP_ALPHA << 24) | (b << 16) | (g << 8) | r) >>> 0;
  }
  return table;
}
const SHADES = { false: shadeTable(false), true: shadeTable(true) };

/**
 * Paint a grid of uint8 codes (row 0 at the top; square unless `width` says otherwise) onto a canvas of as many
 * pixels; CSS scales it to its box. The canvas's ImageData is kept on it, so a frame costs one table look-up a
 * pixel and one putImageData.
 */
export function drawHeatmap(canvas, codes, discretize = false, width = Math.round(Math.sqrt(codes.length))) {
  const height = codes.length / width;
  if (canvas.width !== width || canvas.height !== height || !canvas.image) {
    canvas.width = width;
    canvas.height = height;
    canvas.image = canvas.getContext("2d").createImageData(width, height);
    canvas.pixels = new Uint32Array(canvas.image.data.buffer);
  }
  const table = SHADES[Boolean(discretize)];
  const pixels = canvas.pixels;
  for (let i = 0; i < codes.length; i++) pixels[i] = table[codes[i]];
  canvas.getContext("2d").putImageData(canvas.image, 0, 0);
}

/**
 * A canvas's drawing context sized for the screen's pixel density (crisp lines and text), in CSS pixels. Its CSS
 * size is read once (reading it forces a layout, which would cost every frame).
 */
function crispContext(canvas) {
  const ratio = window.devicePixelRatio || 1;
  canvas.cssSize = canvas.cssSize || [canvas.clientWidth || canvas.width, canvas.clientHeight || canvas.height];
  const [width, height] = canvas.cssSize;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

/** Data points: train with a white ring, test (when shown) with a black ring; colour by label in [−1, 1]. */
export function drawPoints(canvas, train, test, showTest) {
  const { ctx, width } = crispContext(canvas);
  const scale = width / (2 * EXTENT);
  const draw = (points, ring) => {
    for (const [x1, x2, label] of points) {
      ctx.beginPath();
      ctx.arc((x1 + EXTENT) * scale, (EXTENT - x2) * scale, width > 100 ? 3 : 1.5, 0, 2 * Math.PI);
      ctx.fillStyle = cssColor(label);
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = ring;
      ctx.stroke();
    }
  };
  draw(train, "white");
  if (showTest) draw(test, "black");
}

/** Tick values for [low, high]: a round step giving about `count` ticks. */
export function ticks(low, high, count = 5) {
  const span = Math.max(high - low, 1e-12);
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The heatmap's axes: x along the bottom and x₂ along the right, a tick every unit from −6 to 6, 0 darker. */
export function drawAxes(canvas, plotSize) {
  const { ctx } = crispContext(canvas);
  ctx.font = "10px sans-serif";
  const at = (v) => ((v + EXTENT) / (2 * EXTENT)) * plotSize;
  for (const v of ticks(-EXTENT, EXTENT, 12)) {
    ctx.strokeStyle = v === 0 ? "#555" : "#999";
    ctx.fillStyle = v === 0 ? "#333" : "#666";
    ctx.beginPath();
    ctx.moveTo(at(v), plotSize);
    ctx.lineTo(at(v), plotSize + 4);
    ctx.moveTo(plotSize, plotSize - at(v));
    ctx.lineTo(plotSize + 4, plotSize - at(v));
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(String(v), Math.max(at(v), 6), plotSize + 5); // the end labels stay inside the canvas
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(String(v), plotSize + 6, Math.max(plotSize - at(v), 6));
  }
}

/** A loss for a tick label: few digits. */
function short(v) {
  return Math.abs(v) >= 100 ? v.toExponential(0) : String(Number(v.toPrecision(2)));
}

/**
 * The loss chart: training (grey) and test (black) loss per epoch, ticks for epochs (below) and loss (left);
 * returns the plot's scales for hover read-outs.
 */
export function drawChart(canvas, history) {
  const { ctx, width, height } = crispContext(canvas);
  if (history.length === 0) return null;
  const margin = { left: 30, bottom: 14, top: 4, right: 6 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const stride = Math.max(1, Math.floor(history.length / (2 * plotWidth))); // a long run: ~2 rows a pixel
  const rows = [];
  for (let i = 0; i < history.length; i += stride) rows.push(history[i]);
  if ((history.length - 1) % stride !== 0) rows.push(history[history.length - 1]);
  let top = 1e-9; // the highest loss drawn (a frame's work stays the same however long the run)
  for (const [, a, b] of rows) top = Math.max(top, Number.isFinite(a) ? a : 0, Number.isFinite(b) ? b : 0);
  const first = history[0][0];
  const last = Math.max(first + 1, history[history.length - 1][0]);
  const x = (epoch) => margin.left + ((epoch - first) / (last - first)) * plotWidth;
  const y = (loss) => margin.top + plotHeight - (Math.min(loss, top) / top) * plotHeight;
  ctx.font = "9px sans-serif";
  ctx.fillStyle = "#555";
  ctx.strokeStyle = "#ccc";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of ticks(0, top, 2)) {
    ctx.beginPath();
    ctx.moveTo(margin.left - 3, Math.round(y(v)) + 0.5);
    ctx.lineTo(margin.left + plotWidth, Math.round(y(v)) + 0.5);
    ctx.stroke();
    ctx.fillText(short(v), margin.left - 4, y(v));
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const e of ticks(first, last, 4).filter(Number.isInteger)) {
    ctx.beginPath();
    ctx.moveTo(Math.round(x(e)) + 0.5, margin.top + plotHeight);
    ctx.lineTo(Math.round(x(e)) + 0.5, margin.top + plotHeight + 3);
    ctx.stroke();
    ctx.fillText(String(e), Math.min(x(e), width - 10), margin.top + plotHeight + 3);
  }
  for (const [column, stroke] of [[1, "#aaa"], [2, "#222"]]) {
    ctx.beginPath();
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 1.5;
    let drawing = false; // a loss that is not a number (divergence) breaks the line
    for (const row of rows) {
      if (!Number.isFinite(row[column])) drawing = false;
      else if (drawing) ctx.lineTo(x(row[0]), y(row[column]));
      else {
        ctx.moveTo(x(row[0]), y(row[column]));
        drawing = true;
      }
    }
    ctx.stroke();
  }
  return { first, last, left: margin.left, plotWidth };
}

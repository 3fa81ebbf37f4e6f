// Drawing: the colour scale, heatmaps (from the server's uint8 grids), data points and the loss chart.

const NEGATIVE = [245, 147, 34];   // −1: orange, as on playground.tensorflow.org
const MIDDLE = [232, 234, 235];    //  0: light grey
const POSITIVE = [8, 119, 189];    // +1: blue
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

/** Decode a base64 grid of uint8 codes into values in [−1, 1] (code = round((v + 1) · 127.5)). */
export function decodeGrid(b64) {
  const bytes = atob(b64);
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i) / 127.5 - 1;
  return out;
}

const scratch = document.createElement("canvas");

/** Paint a square grid of values (row 0 at the top) onto a canvas, smoothly scaled to its size. */
export function drawHeatmap(canvas, values, discretize = false) {
  const n = Math.round(Math.sqrt(values.length));
  scratch.width = n;
  scratch.height = n;
  const sctx = scratch.getContext("2d");
  const image = sctx.createImageData(n, n);
  for (let i = 0; i < values.length; i++) {
    const v = discretize ? (values[i] >= 0 ? 1 : -1) : values[i];
    const [r, g, b] = color(v);
    image.data.set([r, g, b, 160], 4 * i);
  }
  sctx.putImageData(image, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = !discretize;
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

/** Data points: train with a white ring, test (when shown) with a black ring; colour by label in [−1, 1]. */
export function drawPoints(canvas, train, test, showTest) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const scale = canvas.width / (2 * EXTENT);
  const draw = (points, ring) => {
    for (const [x1, x2, label] of points) {
      ctx.beginPath();
      ctx.arc((x1 + EXTENT) * scale, (EXTENT - x2) * scale, 3, 0, 2 * Math.PI);
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

/** The loss chart: training (grey) and test (black) loss per epoch; returns the scales for hover read-outs. */
export function drawChart(canvas, history) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (history.length === 0) return null;
  const finite = history.flatMap(([, a, b]) => [a, b]).filter(Number.isFinite);
  const top = Math.max(1e-9, ...finite);
  const first = history[0][0];
  const last = Math.max(first + 1, history[history.length - 1][0]);
  const x = (epoch) => ((epoch - first) / (last - first)) * (width - 2) + 1;
  const y = (loss) => height - 2 - (Math.min(loss, top) / top) * (height - 4);
  for (const [column, stroke] of [[1, "#aaa"], [2, "#222"]]) {
    ctx.beginPath();
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 1.5;
    let drawing = false; // a loss that is not a number (divergence) breaks the line
    for (const row of history) {
      if (!Number.isFinite(row[column])) drawing = false;
      else if (drawing) ctx.lineTo(x(row[0]), y(row[column]));
      else {
        ctx.moveTo(x(row[0]), y(row[column]));
        drawing = true;
      }
    }
    ctx.stroke();
  }
  return { first, last, width };
}

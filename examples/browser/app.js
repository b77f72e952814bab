// The page's logic: load the checkpoint once, turn the drawing into MNIST's 28x28 format
// (digit scaled into a 20x20 box, centred by its centre of mass, values / 255) and run
// `await model.forward({data})` on every stroke.
import * as mx from 'mxnext';

const pad = document.getElementById('pad');
const ctx = pad.getContext('2d');
const small = document.getElementById('small');
const status = document.getElementById('status');
let model = null;
let samples = null;
let sampleIndex = 0;

function clearPad() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  document.getElementById('prediction').textContent = '?';
  document.getElementById('bars').innerHTML = '';
  small.getContext('2d').clearRect(0, 0, 28, 28);
}

/** The pad as 784 values in [0, 1], MNIST style. */
function toMnist() {
  const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
  let x0 = width; let y0 = height; let x1 = -1; let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4] > 20) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  const out = new Float32Array(784);
  if (x1 < 0) return out;
  const w = x1 - x0 + 1; const h = y1 - y0 + 1;
  const scale = 20 / Math.max(w, h);
  const tmp = document.createElement('canvas');
  tmp.width = 28; tmp.height = 28;
  const t = tmp.getContext('2d');
  t.fillStyle = '#000'; t.fillRect(0, 0, 28, 28);
  t.imageSmoothingEnabled = true;
  const dw = w * scale; const dh = h * scale;
  t.drawImage(pad, x0, y0, w, h, (28 - dw) / 2, (28 - dh) / 2, dw, dh);
  const px = t.getImageData(0, 0, 28, 28).data;
  let sx = 0; let sy = 0; let s = 0;
  for (let i = 0; i < 784; i++) {
    const v = px[i * 4] / 255;
    out[i] = v; s += v; sx += v * (i % 28); sy += v * Math.floor(i / 28);
  }
  // Shift so the centre of mass sits at the centre, as MNIST's digits do.
  const dx = Math.round(13.5 - sx / s); const dy = Math.round(13.5 - sy / s);
  const shifted = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const nx = x + dx; const ny = y + dy;
      if (nx >= 0 && nx < 28 && ny >= 0 && ny < 28) shifted[ny * 28 + nx] = out[y * 28 + x];
    }
  }
  return shifted;
}

function show28(pixels) {
  const s = small.getContext('2d');
  const img = s.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(pixels[i] * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  s.putImageData(img, 0, 0);
}

/** Runs the network on 784 values in [0, 1]; returns {label, probs}. */
async function predict(pixels) {
  show28(pixels);
  const x = mx.nd.array(pixels, [1, 1, 28, 28]);
  const [probs] = await model.forward({ data: x });
  const p = await probs.data();
  x.dispose(); probs.dispose();
  let label = 0;
  p.forEach((v, i) => { if (v > p[label]) label = i; });
  document.getElementById('prediction').textContent = String(label);
  document.getElementById('bars').innerHTML = Array.from(p, (v, i) =>
    `<span>${i}</span><div class="bar" style="width:${Math.max(1, v * 200)}px"></div>` +
    `<span>${(v * 100).toFixed(1)}%</span>`).join('');
  document.body.dataset.prediction = String(label);
  return { label, probs: Array.from(p) };
}

function drawSample(i) {
  const { pixels } = samples;
  const img = ctx.createImageData(28, 28);
  pixels[i].forEach((v, k) => img.data.set([v, v, v, 255], k * 4));
  const tmp = document.createElement('canvas');
  tmp.width = 28; tmp.height = 28;
  tmp.getContext('2d').putImageData(img, 0, 0);
  clearPad();
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tmp, 0, 0, 280, 280);
  return predict(Float32Array.from(pixels[i], (v) => v / 255));
}

let drawing = false;
function pos(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * (pad.width / r.width), (e.clientY - r.top) * (pad.height / r.height)];
}
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  ctx.strokeStyle = '#fff'; ctx.lineWidth = 22; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  ctx.beginPath(); ctx.moveTo(...pos(e));
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  ctx.lineTo(...pos(e)); ctx.stroke();
});
const finish = () => {
  if (!drawing) return;
  drawing = false;
  if (model) predict(toMnist());
};
pad.addEventListener('pointerup', finish);
pad.addEventListener('pointerleave', finish);
document.getElementById('clear').addEventListener('click', clearPad);
document.getElementById('sample').addEventListener('click', () => {
  drawSample(sampleIndex);
  sampleIndex = (sampleIndex + 1) % samples.labels.length;
});

async function main() {
  clearPad();
  try {
    // Where the .wasm is served from (like onnxruntime-web's wasmPaths).
    await mx.init({ wasmPaths: new URL('../../bindings/js/dist/', location.href).href });
    const [json, params, digits] = await Promise.all([
      fetch('model/lenet-symbol.json').then((r) => r.text()),
      fetch('model/lenet-0000.params').then((r) => r.arrayBuffer()),
      fetch('digits.json').then((r) => r.json()),
    ]);
    model = await mx.loadCheckpoint(json, params);
    samples = digits;
    status.textContent = `ready: mxnext ${mx.version()} (WebAssembly), ` +
      `${(params.byteLength / 1024).toFixed(0)} KiB of weights`;
    document.body.dataset.ready = '1';
  } catch (e) {
    status.textContent = `error: ${e.name}: ${e.message}`;
    document.body.dataset.error = e.message;
    throw e;
  }
}

// For the browser test (and the console): predict held-out sample i, or raw pixels.
window.demo = { drawSample, predict, toMnist, memory: () => mx.memory() };
main();

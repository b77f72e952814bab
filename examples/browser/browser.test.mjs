// Headless Chromium (Debian's chromium, driven by playwright-core) opens the page from a
// localhost server, runs the demo's LeNet in WebAssembly on held-out digits and on a stroke
// drawn with the mouse, checks the predictions, and takes a screenshot
// (build/browser/draw-digit.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.mjs';

const require = createRequire(new URL('../../bindings/js/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const SHOT_DIR = fileURLToPath(new URL('../../build/browser/', import.meta.url));
const CHROMIUM = process.env.MXNEXT_CHROMIUM || '/usr/bin/chromium';

test('the draw-a-digit page predicts digits in headless Chromium', async (t) => {
  const server = await serve(0);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'] });
  t.after(async () => { await browser.close(); server.close(); });
  const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/examples/browser/`);
  await page.waitForSelector('body[data-ready="1"], body[data-error]', { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.error), undefined);

  // Held-out digits (never trained on): the page's "sample" path, canvas included.
  const results = await page.evaluate(async () => {
    const digits = await (await fetch('digits.json')).json();
    const out = [];
    for (let i = 0; i < digits.labels.length; i++) {
      out.push([(await window.demo.drawSample(i)).label, digits.labels[i]]);
    }
    return out;
  });
  const right = results.filter(([got, want]) => got === want).length;
  t.diagnostic(`${right} of ${results.length} held-out digits predicted right`);
  assert.ok(right >= 18, `only ${right} of ${results.length} held-out digits right: ${JSON.stringify(results)}`);

  const before = await page.evaluate(() => window.demo.memory());

  // A person drawing a "7" with the mouse.
  await page.click('#clear');
  const box = await page.locator('#pad').boundingBox();
  const at = (x, y) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(0.25, 0.2));
  await page.mouse.down();
  for (const [x, y] of [[0.45, 0.2], [0.65, 0.2], [0.75, 0.2], [0.65, 0.4], [0.55, 0.6],
    [0.48, 0.8]]) await page.mouse.move(...at(x, y), { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('prediction').textContent !== '?');
  assert.equal(await page.textContent('#prediction'), '7');
  const mem = await page.evaluate(() => window.demo.memory());
  // The model's 8 parameters, its bound data and label arrays and the executor's output stay;
  // no array of any prediction is left behind.
  assert.equal(mem.numArrays, 11, JSON.stringify(mem));
  assert.equal(mem.numHandles, before.numHandles);
  assert.equal(mem.liveBytes, before.liveBytes);
  mkdirSync(SHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SHOT_DIR}draw-digit.png` });
  assert.deepEqual(errors, []);
});

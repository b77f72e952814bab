#!/usr/bin/env node
// A static file server for the page: serves the repository on 127.0.0.1 (the page imports the
// package from bindings/js). `node examples/browser/serve.mjs [port]` then open
// http://127.0.0.1:PORT/examples/browser/ (run bindings/js/build.sh first).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.json': 'application/json', '.wasm': 'application/wasm', '.params': 'application/octet-stream',
  '.css': 'text/css', '.png': 'image/png' };

export function serve(port = 0) {
  const server = createServer(async (req, res) => {
    try {
      let path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
      if (path.endsWith('/')) path += 'index.html';
      const file = join(ROOT, path);
      if (!file.startsWith(ROOT + '/')) throw new Error('outside');
      if ((await stat(file)).isDirectory()) { res.writeHead(301, { Location: `${path}/` }); res.end(); return; }
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>404</body></html>');
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.argv[2] || 8080));
  console.log(`http://127.0.0.1:${server.address().port}/examples/browser/`);
}

// A static file server for the browser tests: serves the release build under a sub-path (as
// GitHub Pages does) on a free loopback port, and records every request it receives.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.csv': 'text/csv', '.svg': 'image/svg+xml', '.md': 'text/markdown', '.json': 'application/json',
};

export async function startServer(dist, publicUrl) {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    const url = new URL(req.url, 'http://localhost');
    if (!url.pathname.startsWith(publicUrl)) { res.writeHead(404); res.end('outside the site'); return; }
    let rel = decodeURIComponent(url.pathname.slice(publicUrl.length)) || 'index.html';
    const file = path.join(dist, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''));
    fs.readFile(file, (err, body) => {
      if (err) { res.writeHead(404); res.end('not found'); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { origin: `http://127.0.0.1:${port}`, url: `http://127.0.0.1:${port}${publicUrl}`, requests, close: () => new Promise((r) => server.close(r)) };
}

// Times NOTEARS in the browser: the release site (target/e2e-dist, served under /causeway/ as the
// browser tests do) in headless Chromium, driven like a person would drive it.
//
// Usage: node bench/browser.mjs DATADIR [--repeats N] [--timeout SECONDS] [NAME ...]
//
// For each dataset of DATADIR/datasets.json (written by the bench_data example) and each repeat,
// it opens a fresh page, opens "Synthetic data with a known graph…", types d, k, n and the seed,
// clicks Generate (the page's generator is the same Rust code as bench_data, so the data are
// identical; the first preview row is checked against the CSV), clicks Run and waits for Done.
// The time is the page's own `data-elapsed-ms` on the run state: from the Run click to the Done
// message, so it includes the worker generating and preparing the data and the 40 ms time
// slices. SHD and F1 are read from the page. One JSON line per dataset with the median time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSite } from '../tests/e2e/helpers.mjs';

function usage(msg) {
  console.error(`browser.mjs: ${msg}\nusage: node bench/browser.mjs DATADIR [--repeats N] [--timeout SECONDS] [NAME ...]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let dataDir = null;
let repeats = 3;
let timeoutS = 600;
const only = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--repeats') repeats = Number(args[++i]);
  else if (args[i] === '--timeout') timeoutS = Number(args[++i]);
  else if (dataDir === null) dataDir = args[i];
  else only.push(args[i]);
}
if (!dataDir) usage('DATADIR is required');
if (!(Number.isInteger(repeats) && repeats >= 1)) usage('--repeats needs a whole number ≥ 1');
if (!(timeoutS > 0)) usage('--timeout needs a number of seconds > 0');

const manifest = JSON.parse(readFileSync(join(dataDir, 'datasets.json'), 'utf8'));
const datasets = only.length ? only.map((n) => manifest.find((m) => m.name === n) || usage(`no dataset ${n} in datasets.json`)) : manifest;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function runOnce(site, ds, firstRow) {
  const app = await site.open();
  try {
    const { page } = app;
    await page.click('[data-testid=example-synthetic-open]');
    await page.fill('[data-testid=synthetic-d]', String(ds.d));
    await page.fill('[data-testid=synthetic-k]', String(ds.k));
    await page.fill('[data-testid=synthetic-n]', String(ds.n));
    await page.fill('[data-testid=synthetic-seed]', String(ds.seed));
    await page.click('[data-testid=example-synthetic]');
    await app.waitForPreview();
    const shape = await page.innerText('[data-testid=shape]');
    if (!shape.includes(`${ds.n} rows × ${ds.d} columns`)) throw new Error(`${ds.name}: the page generated "${shape}", expected ${ds.n} rows × ${ds.d} columns`);
    if (await page.isChecked('[data-testid=standardize]')) throw new Error(`${ds.name}: standardize is ticked; the other contenders use the raw data`);
    // The preview's first row (4 decimals) must be the CSV's first row: same generator, same data.
    const cells = await page.$$eval('table.rows tbody tr:first-child td', (tds) => tds.map((td) => td.textContent.trim()));
    const shown = cells.slice(-ds.d).map(Number);
    const bad = firstRow.findIndex((v, j) => !(Math.abs(v - shown[j]) <= 5.1e-5));
    if (shown.length !== ds.d || bad >= 0) throw new Error(`${ds.name}: the page's first row [${cells.join(', ')}] differs from the CSV's [${firstRow.join(', ')}]`);

    await app.run();
    await app.waitForState('done', timeoutS * 1000);
    const state = page.locator('[data-testid=run-state]');
    const ms = Number(await state.getAttribute('data-elapsed-ms'));
    if (!Number.isFinite(ms)) throw new Error(`${ds.name}: no data-elapsed-ms on the run state`);
    const computeMs = Number(await state.getAttribute('data-compute-ms'));
    const shd = Number(await page.innerText('[data-testid=shd]'));
    const f1 = Number(await page.innerText('[data-testid=f1]'));
    const nEdges = (await app.edges()).length;
    if (app.errors.length) throw new Error(`${ds.name}: page errors: ${app.errors.join('; ')}`);
    return { seconds: ms / 1000, worker_seconds: computeMs / 1000, shd, f1, n_edges: nEdges };
  } finally {
    await app.close();
  }
}

const site = await startSite();
let failed = false;
try {
  const browserVersion = site.browser.version();
  for (const ds of datasets) {
    const csvLines = readFileSync(join(dataDir, ds.csv), 'utf8').split('\n', 2);
    const firstRow = csvLines[1].split(',').map(Number);
    const runs = [];
    const workerRuns = [];
    let last = null;
    let timedOut = false;
    for (let r = 0; r < repeats; r++) {
      try {
        last = await runOnce(site, ds, firstRow);
      } catch (e) {
        if (e.name === 'TimeoutError') { timedOut = true; break; }
        throw e;
      }
      runs.push(last.seconds);
      workerRuns.push(last.worker_seconds);
      console.error(`browser.mjs: ${ds.name} run ${r + 1}/${repeats}: ${last.seconds.toFixed(3)} s (worker ${last.worker_seconds.toFixed(3)} s), SHD ${last.shd}`);
    }
    const line = timedOut
      ? { dataset: ds.name, impl: 'browser', seconds: null, timeout: timeoutS, runs, browser: browserVersion }
      : { dataset: ds.name, impl: 'browser', seconds: median(runs), runs, worker_seconds: median(workerRuns), worker_runs: workerRuns, shd: last.shd, f1: last.f1, n_edges: last.n_edges, browser: browserVersion };
    console.log(JSON.stringify(line));
  }
} catch (e) {
  failed = true;
  console.error(`browser.mjs: error: ${e.message}`);
} finally {
  await site.close();
}
if (site.offOrigin.length) { console.error(`browser.mjs: requests left the site's origin: ${site.offOrigin.join(', ')}`); failed = true; }
process.exit(failed ? 1 : 0);

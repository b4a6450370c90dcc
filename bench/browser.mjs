// Times the structure learners in the browser: the release site (target/e2e-dist, served under
// /causeway/ as the browser tests do) in headless Chromium, driven like a person would drive it.
//
// Usage: node bench/browser.mjs DATADIR --learners "notears pc ..." [--repeats N] [--timeout SECONDS] [--seed S] [NAME ...]
//
// For each learner, each dataset of DATADIR/datasets.json (written by the bench_data example) and
// each repeat, it opens a fresh page, chooses NAME.csv in the page's file input (so the page learns
// from exactly the bytes the other contenders read), checks the preview's shape and that
// standardizing is off, selects the learner in the algorithm menu (default settings), waits until the
// worker has finished warming its code up (`data-warm=done`) and one second more (BENCH_SETTLE_MS),
// as a person choosing a file and a learner takes seconds, then clicks Run and waits for Done.
// The time is the worker's own compute time for the job (`data-compute-ms`, sent with Done:
// parsing and preparing the CSV, building the learner, every step); the page's
// Run-click-to-Done time (`data-elapsed-ms`) is kept too. The learned edges are read from the
// drawn graph (`data-edge`, A->B or A--B) at the page's default threshold; `bench_learners --score`
// scores them. One JSON line per learner and dataset with the median time; a job whose median
// is under 20 ms after the requested repeats runs until BENCH_SHORT_RUNS (default 7) runs.
// `--seed S` types S into the learner's seed setting (`param-seed`; SDCD, the stochastic
// learner) before Run and adds `"seed": S` to the line. BENCH_PAGE_QUERY is added to the page's
// address (e.g. `?workers=1` keeps SDCD's first stage in one worker, to compare).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSite } from '../tests/e2e/helpers.mjs';

function usage(msg) {
  console.error(`browser.mjs: ${msg}\nusage: node bench/browser.mjs DATADIR --learners "ID ..." [--repeats N] [--timeout SECONDS] [--seed S] [NAME ...]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let dataDir = null;
let repeats = 3;
let timeoutS = 600;
let learners = [];
let seed = null;
const only = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--repeats') repeats = Number(args[++i]);
  else if (args[i] === '--timeout') timeoutS = Number(args[++i]);
  else if (args[i] === '--seed') seed = String(args[++i] ?? '');
  else if (args[i] === '--learners') learners = String(args[++i] || '').split(/[\s,]+/).filter(Boolean);
  else if (dataDir === null) dataDir = args[i];
  else only.push(args[i]);
}
if (!dataDir) usage('DATADIR is required');
if (!learners.length) usage('--learners is required');
if (!(Number.isInteger(repeats) && repeats >= 1)) usage('--repeats needs a whole number ≥ 1');
if (!(timeoutS > 0)) usage('--timeout needs a number of seconds > 0');
if (seed !== null && !/^\d+$/.test(seed)) usage('--seed needs a whole number ≥ 0');

const manifest = JSON.parse(readFileSync(join(dataDir, 'datasets.json'), 'utf8'));
const datasets = only.length ? only.map((n) => manifest.find((m) => m.name === n) || usage(`no dataset ${n} in datasets.json`)) : manifest;

// Pause between the worker's end of warm-up and the click on Run (see runOnce).
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 1000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Jobs whose median is under SHORT_S seconds get SHORT_RUNS runs in all (see the loop below).
const SHORT_S = 0.02;
const SHORT_RUNS = Number(process.env.BENCH_SHORT_RUNS ?? 7);

async function runOnce(site, ds, learner, bytes) {
  const app = await site.open(process.env.BENCH_PAGE_QUERY ?? '');
  try {
    const { page } = app;
    await app.chooseFile(ds.csv, bytes);
    await app.waitForPreview();
    const shape = await page.innerText('[data-testid=shape]');
    if (!shape.includes(`${ds.n} rows × ${ds.d} columns`)) throw new Error(`${ds.name}: the page read "${shape}", expected ${ds.n} rows × ${ds.d} columns`);
    if (await page.isChecked('[data-testid=standardize]')) throw new Error(`${ds.name}: standardize is ticked; the other contenders use the raw data`);
    await page.selectOption('[data-testid=algorithm]', learner);
    if (seed !== null) {
      const input = page.locator('[data-testid=param-seed]');
      if (!(await input.count())) throw new Error(`${learner} has no seed setting`);
      await input.fill(seed);
      await input.dispatchEvent('change');
      const shown = await input.inputValue();
      if (shown !== seed) throw new Error(`${learner}: the seed field shows ${shown}, not ${seed}`);
    }
    // A person opens the page, chooses a file, reads the preview and picks a learner: seconds in
    // which the worker warms its code up (`jobs::WarmUp`) and V8 compiles the optimized code on
    // its background threads. Click Run once the worker says its warm-up is over and a settling
    // second has passed (about 2 s after the page opened), not half a second after.
    await page.waitForSelector('[data-testid=run-state][data-warm=done]', { timeout: 60_000 });
    await page.waitForTimeout(SETTLE_MS);
    await app.run();
    await page.waitForSelector('[data-testid=run-state][data-state=done], [data-testid=run-state][data-state=error]', { timeout: timeoutS * 1000 });
    if ((await app.state()) !== 'done') throw new Error(`${learner} on ${ds.name}: the run stopped with an error: ${await page.innerText('[data-testid=run-state]')}`);
    const state = page.locator('[data-testid=run-state]');
    const elapsedMs = Number(await state.getAttribute('data-elapsed-ms'));
    const computeMs = Number(await state.getAttribute('data-compute-ms'));
    if (!Number.isFinite(computeMs)) throw new Error(`${learner} on ${ds.name}: no data-compute-ms on the run state`);
    const edges = await app.edges();
    if (app.errors.length) throw new Error(`${learner} on ${ds.name}: page errors: ${app.errors.join('; ')}`);
    return { seconds: computeMs / 1000, elapsed_seconds: elapsedMs / 1000, edges };
  } finally {
    await app.close();
  }
}

const site = await startSite();
let failed = false;
try {
  const browserVersion = site.browser.version();
  for (const learner of learners) {
    for (const ds of datasets) {
      const bytes = readFileSync(join(dataDir, ds.csv));
      const runs = [];
      const elapsed = [];
      let last = null;
      let timedOut = false;
      let error = null;
      // Millisecond jobs are at the mercy of the machine: when the median of the first runs is
      // under SHORT_S, run until SHORT_RUNS (a page load costs seconds, the job nothing).
      let target = repeats;
      for (let r = 0; r < target; r++) {
        try {
          last = await runOnce(site, ds, learner, bytes);
        } catch (e) {
          if (e.name === 'TimeoutError') { timedOut = true; break; }
          error = e.message.split('\n')[0];
          failed = true;
          console.error(`browser.mjs: ${learner} ${ds.name}: ${e.message}`);
          break;
        }
        runs.push(last.seconds);
        elapsed.push(last.elapsed_seconds);
        if (r + 1 === repeats && median(runs) < SHORT_S) target = Math.max(repeats, SHORT_RUNS);
        console.error(`browser.mjs: ${learner} ${ds.name} run ${r + 1}/${target}: worker ${last.seconds.toFixed(3)} s (Run to Done ${last.elapsed_seconds.toFixed(3)} s), ${last.edges.length} edges`);
      }
      const base = seed === null ? {} : { seed: Number(seed) };
      const line = error
        ? { dataset: ds.name, learner, impl: 'browser', ...base, seconds: null, error, runs, browser: browserVersion }
        : timedOut
        ? { dataset: ds.name, learner, impl: 'browser', ...base, seconds: null, timeout: timeoutS, runs, browser: browserVersion }
        : { dataset: ds.name, learner, impl: 'browser', ...base, seconds: median(runs), runs, elapsed_seconds: median(elapsed), elapsed_runs: elapsed, edges: last.edges, browser: browserVersion };
      if (timedOut) console.error(`browser.mjs: ${learner} ${ds.name}: over the ${timeoutS} s timeout`);
      console.log(JSON.stringify(line));
    }
  }
} catch (e) {
  failed = true;
  console.error(`browser.mjs: error: ${e.message}`);
} finally {
  await site.close();
}
if (site.offOrigin.length) { console.error(`browser.mjs: requests left the site's origin: ${site.offOrigin.join(', ')}`); failed = true; }
process.exit(failed ? 1 : 0);

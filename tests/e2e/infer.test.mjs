// Browser tests of the Infer tab, on the release build served under a sub-path: every method
// runs to done on eight schools and on a CSV-bound regression, the summary table fills, chains
// run in more than one worker, Cancel stops them all, the exact posterior is drawn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSite, linearGaussianCsv } from './helpers.mjs';

let site;
before(async () => { site = await startSite(); });
after(async () => {
  assert.deepEqual(site.offOrigin, [], 'no request may leave the site\'s origin');
  await site.close();
});

const METHODS = ['nuts', 'hmc', 'rwmh', 'advi-meanfield', 'advi-fullrank'];

async function openInfer() {
  const app = await site.open();
  await app.page.click('[data-testid=tab-infer]');
  await app.page.waitForSelector('[data-testid=model]');
  return app;
}

async function setNumber(app, testid, value) {
  const sel = `[data-testid=${testid}]`;
  await app.page.fill(sel, String(value));
  await app.page.dispatchEvent(sel, 'change');
}

async function configure(app, { model, method, chains, warmup, draws }) {
  if (model) await app.page.selectOption('[data-testid=model]', model);
  if (method) await app.page.selectOption('[data-testid=sampler]', method);
  if (chains && !method?.startsWith('advi')) await setNumber(app, 'chains', chains);
  if (warmup && !method?.startsWith('advi')) await setNumber(app, 'warmup', warmup);
  if (draws) await setNumber(app, 'draws', draws);
}

async function summaryRows(app) {
  return app.page.$$eval('[data-testid=summary] tbody tr', (rows) => rows.map((r) => {
    const cells = {};
    for (const td of r.querySelectorAll('[data-stat]')) cells[td.getAttribute('data-stat')] = td.textContent;
    return { param: r.getAttribute('data-param'), ...cells };
  }));
}

test('eight schools: four NUTS chains run in more than one worker and fill the summary', async () => {
  const app = await openInfer();
  await configure(app, { model: 'eight-schools-noncentered', method: 'nuts', chains: 4, warmup: 500, draws: 500 });
  assert.match(await app.page.innerText('[data-testid=model-math]'), /θ|theta/);
  // Web Workers as the browser counts them (Playwright's page.workers()), not as the page says.
  const workersBefore = app.page.workers().length;
  await app.run();
  await app.page.waitForSelector('[data-testid=chain-progress]');
  const workers = Number(await app.page.getAttribute('[data-testid=chain-progress]', 'data-workers'));
  assert.ok(workers > 1, `chains ran in ${workers} workers`);
  await app.waitForState('done');
  const started = app.page.workers().length - workersBefore;
  assert.ok(started >= workers, `the browser saw ${started} new workers for ${workers} chain workers`);
  const rows = await summaryRows(app);
  assert.equal(rows.length, 10, 'mu, tau and eight thetas');
  const mu = rows.find((r) => r.param === 'mu');
  assert.ok(mu, 'a row for mu');
  for (const stat of ['mean', 'sd', 'mcse', 'q5', 'q50', 'q95', 'ess_bulk', 'ess_tail', 'rhat']) {
    assert.ok(Number.isFinite(Number(mu[stat])), `mu ${stat} = ${mu[stat]}`);
  }
  assert.ok(Math.abs(Number(mu.mean) - 4.4) < 1.5, `mu mean ${mu.mean}`);
  assert.ok(Number(mu.rhat) < 1.05, `mu rhat ${mu.rhat}`);
  assert.match(await app.page.innerText('[data-testid=summary] caption'), /4 chains × 500 kept draws/);
  // Stan's note: each chain's worker timed one gradient evaluation before sampling.
  const cost = app.page.locator('[data-testid=gradient-cost]');
  assert.match(await cost.innerText(), /Gradient evaluation took [\d.]+ [nµm]?s .*1000 transitions using 10 leapfrog steps/);
  const seconds = Number(await cost.getAttribute('data-seconds'));
  assert.ok(seconds > 0 && seconds < 1e-3, `gradient ${seconds} s`);
  assert.equal(await cost.getAttribute('data-chains'), '4');
  assert.ok(await app.page.$('[data-testid=infer-warnings]'));
  // The chain list names more than one worker, and the plots are drawn for every chain.
  const names = await app.page.$$eval('[data-testid=chain-progress] [data-chain]', (els) => els.map((e) => e.textContent));
  assert.equal(names.length, 4);
  assert.ok(new Set(names.map((n) => n.split('·')[1])).size > 1, names.join(' | '));
  assert.equal(await app.page.locator('svg[data-plot=trace][data-param=mu] path[data-chain]').count(), 4);
  assert.ok(await app.page.$('svg[data-plot=trace] [data-testid=warmup-shade]'));
  assert.ok(await app.page.$('svg[data-plot=rank][data-param=tau]'));
  assert.ok(await app.page.$('svg[data-plot=density][data-param=tau]'));
  assert.ok(await app.page.$('[data-testid=pair-plot]'));
  // Exports: the draws CSV has a row per kept draw and chain; the summary one per parameter.
  const [draws] = await Promise.all([app.page.waitForEvent('download'), app.page.click('[data-testid=export-draws]')]);
  const fs = await import('node:fs/promises');
  const drawsText = await fs.readFile(await draws.path(), 'utf8');
  assert.match(drawsText.split('\n')[0], /chain.*draw.*mu/);
  const [summary] = await Promise.all([app.page.waitForEvent('download'), app.page.click('[data-testid=export-summary]')]);
  const summaryText = await fs.readFile(await summary.path(), 'utf8');
  assert.equal(summaryText.trim().split('\n').length, 11);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('eight schools: every method runs to done', async () => {
  const app = await openInfer();
  await configure(app, { model: 'eight-schools-noncentered' });
  for (const method of METHODS) {
    await configure(app, { method, chains: 2, warmup: 300, draws: 300 });
    await app.run();
    await app.waitForState('done');
    const rows = await summaryRows(app);
    assert.equal(rows.length, 10, `${method}: summary rows`);
    assert.ok(Number.isFinite(Number(rows[0].mean)), `${method}: mean ${rows[0].mean}`);
    if (method.startsWith('advi')) assert.ok(await app.page.$('[data-testid=elbo-plot]'), `${method}: ELBO curve`);
  }
  // ADVI's other optimizer, Adam.
  await configure(app, { method: 'advi-meanfield', draws: 300 });
  await app.page.selectOption('[data-testid=advi-optimizer]', 'adam');
  await app.run();
  await app.waitForState('done');
  assert.equal((await summaryRows(app)).length, 10, 'adam: summary rows');
  // Switching the model leaves the last results up, marked as such.
  assert.equal(await app.page.$('[data-testid=stale-results]'), null);
  await app.page.selectOption('[data-testid=model]', 'banana');
  assert.match(await app.page.innerText('[data-testid=stale-results]'), /last run, of Eight schools.*press Run/);
  assert.deepEqual(app.errors, []);
  await app.close();
});

const REGRESSION = linearGaussianCsv(['x1', 'x2', 'y'], [['x1', 'y', 1.5], ['x2', 'y', -0.8]], 200, 3);

test('a CSV-bound linear regression: every method runs to done, with a predictive check', async () => {
  const app = await site.open();
  await app.dropFile('reg.csv', REGRESSION);
  await app.waitForPreview();
  await app.page.click('[data-testid=tab-infer]');
  await app.page.selectOption('[data-testid=model]', 'linear-regression');
  await app.page.waitForSelector('[data-testid=outcome]');
  await app.page.selectOption('[data-testid=outcome]', 'y');
  assert.equal(await app.page.isChecked('[data-predictor=x1]'), true);
  assert.equal(await app.page.isChecked('[data-predictor=x2]'), true);
  // Slopes in the data's units, to compare with the generating weights.
  await app.page.uncheck('[data-testid=reg-standardize]');
  assert.match(await app.page.innerText('[data-testid=model-math]'), /x1/);
  for (const method of METHODS) {
    await configure(app, { method, chains: 2, warmup: 300, draws: 300 });
    await app.run();
    await app.waitForState('done');
    const rows = await summaryRows(app);
    assert.equal(rows.length, 4, `${method}: intercept, two slopes, sigma: ${rows.map((r) => r.param)}`);
    const slope = rows.find((r) => r.param.includes('x1'));
    assert.ok(Math.abs(Number(slope.mean) - 1.5) < 0.3, `${method}: slope of x1 ${slope.mean}`);
    assert.ok(await app.page.$('[data-testid=ppc-plot]'), `${method}: predictive check`);
  }
  // Logistic regression on a 0/1 outcome built from the same data.
  const lines = REGRESSION.trim().split('\n');
  const binary = ['x1,x2,b', ...lines.slice(1).map((l) => { const [a, b, y] = l.split(','); return `${a},${b},${Number(y) > 0 ? 1 : 0}`; })].join('\n');
  await app.page.click('[data-testid=tab-discover]');
  await app.dropFile('bin.csv', binary);
  await app.page.waitForSelector('text=bin.csv');
  await app.waitForPreview();
  await app.page.click('[data-testid=tab-infer]');
  await app.page.selectOption('[data-testid=model]', 'logistic-regression');
  await app.page.selectOption('[data-testid=outcome]', 'b');
  await configure(app, { method: 'nuts', chains: 2, warmup: 300, draws: 300 });
  await app.run();
  await app.waitForState('done');
  assert.equal((await summaryRows(app)).length, 3);
  assert.ok(await app.page.$('[data-testid=ppc-plot]'));
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('a regression without data explains what to do', async () => {
  const app = await openInfer();
  await app.page.selectOption('[data-testid=model]', 'linear-regression');
  await app.run();
  await app.waitForState('error');
  assert.match(await app.errorText(), /data/i);
  await app.close();
});

test('Cancel stops every chain, and a new run then works', async () => {
  // A target acceptance of 0.99 makes each transition long (tiny steps, deep trees), so the run
  // lasts while few draws stream: Cancel is pressed mid-run without the page being flooded.
  const app = await openInfer();
  await configure(app, { model: 'eight-schools-centered', method: 'nuts', chains: 4, warmup: 20000, draws: 20000 });
  await setNumber(app, 'target-accept', 0.99);
  await app.run();
  await app.waitForState('running');
  await app.page.waitForSelector('[data-testid=summary]', { timeout: 20_000 });
  await app.page.click('[data-testid=cancel]');
  await app.waitForState('idle', 5_000);
  assert.match(await app.page.innerText('[data-testid=run-state]'), /cancelled/i);
  // Nothing more arrives from the cancelled chains.
  const before = await app.page.innerText('[data-testid=summary] caption');
  await app.page.waitForTimeout(800);
  assert.equal(await app.page.innerText('[data-testid=summary] caption'), before);
  await configure(app, { warmup: 200, draws: 200 });
  await app.run();
  await app.waitForState('done');
  assert.match(await app.page.innerText('[data-testid=summary] caption'), /4 chains × 200 kept draws/);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('beta-binomial: editable data and the exact posterior beside the samples', async () => {
  const app = await openInfer();
  await app.page.selectOption('[data-testid=model]', 'beta-binomial');
  await setNumber(app, 'bb-heads', 12);
  await setNumber(app, 'bb-flips', 30);
  assert.match(await app.page.innerText('[data-testid=model-math]'), /Beta\(14, 20\)/);
  await configure(app, { method: 'nuts', chains: 2, warmup: 300, draws: 500 });
  await app.run();
  await app.waitForState('done');
  const theta = (await summaryRows(app)).find((r) => r.param === 'theta');
  assert.ok(Math.abs(Number(theta.mean) - 14 / 34) < 0.03, `theta mean ${theta.mean}`);
  assert.ok(await app.page.$('svg[data-plot=density][data-param=theta] [data-testid=exact-posterior]'));
  // Arrow keys move between the tabs; only the active tab's panel is in the page.
  await app.page.focus('[data-testid=tab-infer]');
  await app.page.keyboard.press('ArrowLeft');
  await app.page.waitForSelector('[data-testid=algorithm]');
  assert.equal(await app.page.locator('[data-testid=run]').count(), 1);
  assert.equal(await app.page.getAttribute('[data-testid=tab-discover]', 'aria-selected'), 'true');
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('mixture-1d: generated data with editable settings, or a column of the dropped CSV', async () => {
  const app = await site.open();
  // Two groups 6 apart in column "m" (a third of the rows near -3, the rest near 3).
  const rows = ['id,m'];
  for (let i = 0; i < 150; i++) rows.push(`${i},${(i % 3 === 0 ? -3 : 3) + 0.5 * Math.sin(i * 1.3)}`);
  await app.dropFile('groups.csv', rows.join('\n'));
  await app.waitForPreview();
  await app.page.click('[data-testid=tab-infer]');
  await app.page.selectOption('[data-testid=model]', 'mixture-1d');
  // Generated by default: its settings are editable and shown in the math.
  await app.page.waitForSelector('[data-testid=mixture-generated]');
  await setNumber(app, 'mix-n', 120);
  assert.match(await app.page.innerText('[data-testid=model-math]'), /120 generated values/);
  // Bind it to the CSV's column instead.
  await app.page.selectOption('[data-testid=mixture-source]', 'm');
  assert.match(await app.page.innerText('[data-testid=model-math]'), /column "m"/);
  assert.equal(await app.page.$('[data-testid=mixture-generated]'), null);
  await configure(app, { method: 'nuts', chains: 2, warmup: 300, draws: 300 });
  await app.run();
  await app.waitForState('done');
  const summary = await summaryRows(app);
  const mean = (p) => Number(summary.find((r) => r.param === p).mean);
  assert.ok(Math.abs(mean('mu[1]') + 3) < 0.5, `mu[1] ${mean('mu[1]')}`);
  assert.ok(Math.abs(mean('mu[2]') - 3) < 0.5, `mu[2] ${mean('mu[2]')}`);
  assert.ok(Math.abs(mean('w') - 1 / 3) < 0.15, `w ${mean('w')}`);
  assert.deepEqual(app.errors, []);
  await app.close();
});

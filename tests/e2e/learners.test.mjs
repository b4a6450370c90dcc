// Browser tests of every structure learner on the page: each runs to `done` in the worker on
// Sachs and on a small synthetic set, and SDCD also on generated interventional data; CPDAGs
// are drawn with undirected edges and explained; data problems found at Run are put in words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSite } from './helpers.mjs';

let site;
before(async () => { site = await startSite(); });
after(async () => {
  assert.deepEqual(site.offOrigin, [], 'no request may leave the site\'s origin');
  await site.close();
});

// Settings that keep a browser run short where a learner's defaults train for long.
const QUICK = {
  sdcd: { 'param-stage1-epochs': '200', 'param-stage2-epochs': '300' },
};

async function chooseLearner(app, id) {
  await app.page.selectOption('[data-testid=algorithm]', id);
  await app.setFields(QUICK[id] || {});
}

const LEARNERS = ['notears', 'dagma', 'sdcd', 'pc', 'ges', 'xges'];

for (const id of LEARNERS) {
  test(`${id} runs to done on Sachs and on a small synthetic set`, async () => {
    const app = await site.open();
    await app.page.click('[data-testid=example-sachs]');
    await app.waitForPreview();
    await chooseLearner(app, id);
    // The menu names the authors; the summary links the paper by its title.
    const paper = app.page.locator('[data-testid=paper-link]');
    assert.ok((await paper.innerText()).length > 10, `${id}: paper title`);
    assert.match(await paper.getAttribute('href'), /^https:\/\//);
    await app.run();
    await app.waitForState('done', 300_000);
    assert.equal(await app.page.locator('[data-testid=dag] [data-node]').count(), 11);
    assert.ok(Number.isInteger(Number(await app.page.innerText('[data-testid=shd]'))));
    // The drawn result of a DAG learner is the DAG it returned: never an edge both ways (SDCD's
    // raw adjacency thresholded entrywise would show 2-cycles its final step removes).
    if (['notears', 'dagma', 'sdcd'].includes(id)) {
      const drawn = await app.edges();
      const both = drawn.filter((e) => e.includes('->') && drawn.includes(e.split('->').reverse().join('->')));
      assert.deepEqual(both, [], `${id}: edges drawn both ways`);
    }

    await app.generate({ 'synthetic-d': '6', 'synthetic-n': '500', 'synthetic-seed': '3' });
    await chooseLearner(app, id);
    await app.run();
    await app.waitForState('done', 300_000);
    assert.equal(await app.page.locator('[data-testid=dag] [data-node]').count(), 6);
    const shd = Number(await app.page.innerText('[data-testid=shd]'));
    assert.ok(shd <= 6, `${id}: SHD ${shd} on an easy 6-node linear set`);
    // An empty graph could pass the SHD bound: the learner must also find most true edges.
    // Skeleton F1 scores DAG and CPDAG learners alike (an empty graph scores 0).
    const skeletonF1 = Number(await app.page.innerText('[data-testid=skeleton-f1]'));
    assert.ok(skeletonF1 >= 0.6, `${id}: skeleton F1 ${skeletonF1}, edges ${await app.edges()}`);
    // SDCD, NOTEARS and DAGMA draw their optimisation as it runs: loss, γ, ρ(A); h and ρ;
    // loss, h and μ (down a tenth per stage of the central path: five stages, five levels).
    const CURVES = { sdcd: ['loss', 'gamma', 'spectral-radius'], notears: ['h', 'rho'], dagma: ['lsq-loss', 'dagma-h', 'mu'] };
    for (const metric of CURVES[id] || []) {
      const points = Number(await app.page.getAttribute(`[data-testid=training-curve][data-metric=${metric}]`, 'data-points'));
      assert.ok(points >= 2, `${id}: ${metric} curve with ${points} points`);
    }
    if (!CURVES[id]) assert.equal(await app.page.$('[data-testid=training-curves]'), null);
    if (CURVES[id]) {
      // The curves download as CSV: a point column, then the curves (and the stage, if any).
      const [download] = await Promise.all([app.page.waitForEvent('download'), app.page.click('[data-testid=export-curves]')]);
      const chunks = [];
      for await (const c of await download.createReadStream()) chunks.push(c);
      const lines = Buffer.concat(chunks).toString().trim().split('\n');
      assert.equal(download.suggestedFilename(), 'causeway-curves.csv');
      assert.deepEqual(lines[0].split(',').slice(0, 1 + CURVES[id].length), ['point', ...CURVES[id]]);
      const points = Number(await app.page.getAttribute(`[data-testid=training-curve][data-metric=${CURVES[id][0]}]`, 'data-points'));
      assert.equal(lines.length - 1, points, `${id}: one row per point`);
      assert.ok(Number.isFinite(Number(lines.at(-1).split(',')[1])), lines.at(-1));
    }
    // A dashed line marks where each stage begins: SDCD's second, DAGMA's second to fifth.
    const STAGE_STARTS = { sdcd: 1, dagma: 4 };
    if (STAGE_STARTS[id]) {
      const first = CURVES[id][0];
      assert.equal(await app.page.locator(`[data-testid=training-curve][data-metric=${first}] [data-testid=stage-start]`).count(), STAGE_STARTS[id]);
      assert.equal(await app.page.locator('[data-testid=training-curve][data-metric=stage]').count(), 0);
    }
    if (id === 'dagma') {
      assert.match(await app.page.innerText('[data-testid=training-curve][data-metric=mu] figcaption'), /^μ \(log scale\): 1\.000e-4$/);
    }
    // Every learner is also scored on what the data can identify: CPDAG against true CPDAG.
    const shdCpdag = Number(await app.page.innerText('[data-testid=shd-cpdag]'));
    assert.ok(Number.isInteger(shdCpdag) && shdCpdag <= shd + 6, `${id}: CPDAG SHD ${shdCpdag}`);
    assert.deepEqual(app.errors, []);
    await app.close();
  });
}

test('SDCD learns from generated interventional data, with its target column chosen', async () => {
  const app = await site.open();
  await app.generate({
    'synthetic-d': '5', 'synthetic-n': '400', 'synthetic-seed': '2',
    'synthetic-targets': 'X1, X3', 'synthetic-rows-per-intervention': '100',
  });
  assert.match(await app.page.innerText('[data-testid=shape]'), /600 rows × 6 columns/);
  assert.equal(await app.page.inputValue('[data-testid=intervention-column]'), 'target');
  await chooseLearner(app, 'sdcd');
  await app.run();
  await app.waitForState('done', 300_000);
  assert.equal(await app.page.locator('[data-testid=dag] [data-node]').count(), 5);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('SDCD runs its first stage on two workers, with the same result to the bit as on one', async () => {
  const exported = {};
  for (const query of ['?workers=2', '?workers=1']) {
    const app = await site.open(query);
    await app.generate({ 'synthetic-d': '8', 'synthetic-n': '600', 'synthetic-seed': '5' });
    await chooseLearner(app, 'sdcd');
    await app.recordProgress();
    await app.run();
    await app.waitForState('done', 300_000);
    const seen = await app.progressSeen();
    if (query === '?workers=2') {
      // The split shows while stage 1 runs.
      assert.ok(seen.some((t) => /stage 1 .*· 2 workers/.test(t)), `labels: ${JSON.stringify(seen)}`);
    } else {
      assert.ok(seen.some((t) => /stage 1 /.test(t)), `labels: ${JSON.stringify(seen)}`);
      assert.ok(!seen.some((t) => /workers/.test(t)), `labels: ${JSON.stringify(seen)}`);
    }
    const [download] = await Promise.all([app.page.waitForEvent('download'), app.page.click('[data-testid=export-json]')]);
    const chunks = [];
    for await (const c of await download.createReadStream()) chunks.push(c);
    exported[query] = JSON.parse(Buffer.concat(chunks).toString());
    assert.deepEqual(app.errors, []);
    await app.close();
  }
  assert.ok(exported['?workers=2'].edges.length >= 4, `edges: ${JSON.stringify(exported['?workers=2'].edges)}`);
  assert.deepEqual(exported['?workers=2'], exported['?workers=1']);
});

test('the full Sachs example is fetched from the site and keeps its intervention targets', async () => {
  const app = await site.open();
  await app.page.click('[data-testid=example-sachs-full]');
  await app.waitForPreview();
  assert.match(await app.page.innerText('[data-testid=shape]'), /7466 rows × 13 columns/);
  assert.equal(await app.page.inputValue('[data-testid=intervention-column]'), 'target');
  assert.equal(await app.page.isChecked('[data-testid=standardize]'), true);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('scale-free and nonlinear data are generated with notes on what they are', async () => {
  const app = await site.open();
  await app.generate({ 'synthetic-d': '12', 'synthetic-k': '4', 'synthetic-graph': 'scale-free', 'synthetic-mechanism': 'mlp', 'synthetic-noise': 'random' });
  const text = await app.page.innerText('[data-testid=preview]');
  assert.match(text, /scale-free/);
  assert.match(text, /tanh network/);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('PC draws a CPDAG: undirected edges, and a note on Markov equivalence', async () => {
  const app = await site.open();
  await app.page.click('[data-testid=example-sachs]');
  await app.waitForPreview();
  await chooseLearner(app, 'pc');
  await app.run();
  await app.waitForState('done');
  const edges = await app.edges();
  assert.ok(edges.some((e) => e.includes('--')), `undirected edges among ${edges}`);
  assert.ok(edges.every((e) => /^[^-]+(--|->)[^-]+$/.test(e)), edges.join(' '));
  await app.page.click('[data-testid=cpdag-note] summary');
  assert.match(await app.page.innerText('[data-testid=cpdag-note]'), /Markov equivalence class/);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('collinear columns and fewer rows than columns are explained when Run is pressed', async () => {
  const app = await site.open();
  // c = a + b exactly: the covariance is singular.
  const rows = ['a,b,c'];
  for (let i = 0; i < 50; i++) { const a = Math.sin(i), b = Math.cos(3 * i); rows.push(`${a},${b},${a + b}`); }
  await app.dropFile('collinear.csv', rows.join('\n'));
  await app.waitForPreview();
  await chooseLearner(app, 'ges');
  await app.run();
  await app.waitForState('error');
  const text = await app.errorText();
  assert.match(text, /collinear/i);
  assert.match(text, /"c"|"a"|"b"/);
  // 12 rows of 15 columns (the reader wants at least 10 rows): fewer rows than variables.
  const wide = [Array.from({ length: 15 }, (_, j) => `v${j}`).join(',')];
  for (let i = 0; i < 12; i++) wide.push(Array.from({ length: 15 }, (_, j) => Math.sin(7 * i + 3 * j * j + j)).join(','));
  await app.dropFile('wide.csv', wide.join('\n'));
  await app.page.waitForFunction(() => document.body.innerText.includes('12 rows × 15 columns'));
  await app.run();
  await app.waitForState('error');
  assert.match(await app.errorText(), /Fewer rows than variables/);
  assert.deepEqual(app.errors, []);
  await app.close();
});

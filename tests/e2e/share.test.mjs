// Browser tests of shareable links: "Share link" puts the page's settings in the address, a page
// opened with that address gets them back (and the same graph), a link can run on opening, a
// link that names the user's own file asks for it, and what a link gets wrong is said by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSite, linearGaussianCsv } from './helpers.mjs';

let site;
before(async () => { site = await startSite(); });
after(async () => {
  assert.deepEqual(site.offOrigin, [], 'no request may leave the site\'s origin');
  await site.close();
});

async function setField(app, testid, value) {
  await app.page.fill(`[data-testid=${testid}]`, value);
  await app.page.dispatchEvent(`[data-testid=${testid}]`, 'change');
}

test('a shared link reopens the same data, learner, settings and knowledge, and learns the same graph', async () => {
  const app = await site.open();
  await app.page.click('[data-testid=example-synthetic-open]');
  await setField(app, 'synthetic-d', '8');
  await setField(app, 'synthetic-seed', '4');
  await app.page.selectOption('[data-testid=synthetic-graph]', 'scale-free');
  await app.page.click('[data-testid=example-synthetic]');
  await app.waitForPreview();
  await app.page.check('[data-testid=standardize]');
  await app.page.selectOption('[data-testid=algorithm]', 'pc');
  await setField(app, 'param-alpha', '0.01');
  await app.page.click('[data-testid=knowledge] summary');
  await app.page.fill('[data-testid=knowledge-forbidden]', 'X1 -> X2');
  await app.page.dispatchEvent('[data-testid=knowledge-forbidden]', 'change');
  await app.run();
  await app.waitForState('done');
  const edges = await app.edges();
  assert.ok(edges.length > 0);

  await app.page.click('[data-testid=share]');
  const link = await app.page.inputValue('[data-testid=share-url]');
  for (const part of ['v=1', 'tab=discover', 'data=synthetic', 'data.n_nodes=8', 'data.seed=4', 'data.graph=scale-free',
    'prep.standardize=true', 'learner=pc', 'pc.alpha=0.01', 'knowledge.forbidden=X1%20-%3E%20X2']) {
    assert.ok(link.split('#')[1].split('&').includes(part), `${part} in ${link}`);
  }
  assert.ok(!link.includes('data.n_rows'), `settings at their defaults stay out: ${link}`);
  assert.equal(new URL(app.page.url()).hash, new URL(link).hash, 'the address bar shows the link');
  assert.match(await app.page.innerText('[data-testid=share-panel]'), /seeded: the link makes the same data set again/);
  // From the keyboard: the link is focused and selected on opening, Escape closes and goes back.
  assert.equal(await app.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'share-url');
  await app.page.keyboard.press('Escape');
  assert.equal(await app.page.locator('[data-testid=share-panel]').count(), 0);
  assert.equal(await app.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'share');
  await app.close();

  const again = await site.open(new URL(link).hash);
  await again.waitForPreview();
  assert.equal(await again.page.inputValue('[data-testid=algorithm]'), 'pc');
  assert.equal(Number(await again.page.inputValue('[data-testid=param-alpha]')), 0.01);
  assert.equal(await again.page.inputValue('[data-testid=synthetic-d]'), '8');
  assert.ok(await again.page.isChecked('[data-testid=standardize]'));
  await again.page.click('[data-testid=knowledge] summary');
  assert.equal(await again.page.inputValue('[data-testid=knowledge-forbidden]'), 'X1 -> X2');
  assert.equal(await again.page.locator('[data-testid=link-problems]').count(), 0);
  await again.run();
  await again.waitForState('done');
  assert.deepEqual(await again.edges(), edges);
  assert.deepEqual(again.errors, []);
  await again.close();
});

test('a link keeps how the graph is shown: its zoom, colours, threshold and the nodes the reader moved', async () => {
  const app = await site.open();
  await app.page.click('[data-testid=example-sachs]');
  await app.waitForPreview();
  await app.page.selectOption('[data-testid=algorithm]', 'dagma');
  await app.run();
  await app.waitForState('done');
  const transform = (page, name) => page.getAttribute(`[data-testid=dag] [data-node="${name}"]`, 'transform');
  const untouched = await transform(app.page, 'PKC');
  const node = app.page.locator('[data-node=PKA]');
  const start = await node.getAttribute('transform');
  await node.focus();
  for (const key of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowDown']) await app.page.keyboard.press(key);
  const moved = await node.getAttribute('transform');
  assert.notEqual(moved, start);
  await app.page.click('[data-testid=dag-zoom-in]');
  await app.page.uncheck('[data-testid=color-by-truth]');
  // The slider hides the weaker edges; the link keeps the reader's threshold.
  const allEdges = await app.edges();
  // A threshold between the weakest and the strongest drawn edge, read from their hover titles.
  const weights = (await app.page.locator('[data-testid=dag] [data-edge] title').allTextContents())
    .filter((t) => t.includes('weight')).map((t) => Math.abs(Number(t.match(/weight ([+-][\d.]+)/)[1]))).sort((a, b) => a - b);
  const threshold = (Math.ceil(weights[Math.floor(weights.length / 2)] * 100) / 100).toFixed(2);
  await app.page.locator('[data-testid=threshold]').fill(threshold);
  const strong = await app.edges();
  assert.ok(strong.length > 0 && strong.length < allEdges.length, `${strong.length} of ${allEdges.length} edges at ${threshold} (${weights})`);
  await app.page.click('[data-testid=share]');
  await app.page.check('[data-testid=share-run]');
  const link = await app.page.inputValue('[data-testid=share-url]');
  const parts = decodeURIComponent(link.split('#')[1]).split('&');
  for (const part of ['view.zoom=1.25', 'view.truth_colors=false', `view.threshold=${Number(threshold)}`]) assert.ok(parts.includes(part), `${part} in ${link}`);
  assert.ok(parts.some((p) => p.startsWith('view.nodes=[["PKA",')), `the moved node in ${link}`);
  assert.ok(!parts.some((p) => p.includes('PKC')), `only moved nodes are in ${link}`);
  // While the panel is open, moving a node again updates the link and (soon) the address bar.
  await node.focus();
  await app.page.keyboard.press('ArrowUp');
  const movedAgain = await node.getAttribute('transform');
  await app.page.waitForFunction((old) => document.querySelector('[data-testid=share-url]').value !== old, link);
  const link2 = await app.page.inputValue('[data-testid=share-url]');
  await app.page.waitForFunction((hash) => location.hash === hash, new URL(link2).hash);
  await app.close();

  const again = await site.open(new URL(link2).hash);
  await again.waitForState('done', 120_000);
  assert.equal(await again.page.locator('[data-testid=link-problems]').count(), 0);
  assert.equal(await again.page.innerText('[data-testid=dag-zoom-reset]'), '125 %');
  assert.ok(!(await again.page.isChecked('[data-testid=color-by-truth]')));
  assert.equal(await transform(again.page, 'PKA'), movedAgain);
  assert.equal(Number(await again.page.inputValue('[data-testid=threshold]')), Number(threshold));
  assert.deepEqual(await again.edges(), strong);
  assert.equal(await transform(again.page, 'PKC'), untouched, 'the other nodes keep the layout\'s places');
  assert.deepEqual(again.errors, []);
  await again.close();
});

test('a link can run on opening, and what it gets wrong is named while the rest applies', async () => {
  const app = await site.open('#v=1&data=sachs&learner=ges&ges.colour=red&foo=1&infer.method=gibbs&run=1');
  await app.waitForState('done', 120_000);
  assert.equal(await app.page.inputValue('[data-testid=algorithm]'), 'ges');
  assert.equal(await app.page.locator('[data-testid=dag] [data-node]').count(), 11);
  const problems = await app.page.innerText('[data-testid=link-problems]');
  assert.match(problems, /Part of this link could not be used/);
  assert.match(problems, /GES has no setting “colour”/);
  assert.match(problems, /“foo” is not a setting/);
  assert.match(problems, /“infer.method=gibbs”: the methods are nuts, hmc/);
  await app.page.click('[data-testid=link-problems] button');
  assert.equal(await app.page.locator('[data-testid=link-problems]').count(), 0);
  // "Run when opened" goes into the next link.
  await app.page.click('[data-testid=share]');
  assert.ok(!(await app.page.inputValue('[data-testid=share-url]')).includes('run=1'));
  await app.page.check('[data-testid=share-run]');
  assert.ok((await app.page.inputValue('[data-testid=share-url]')).endsWith('&run=1'));
  // With the panel open, the link follows the settings.
  await app.page.selectOption('[data-testid=algorithm]', 'pc');
  await app.page.waitForFunction(() => document.querySelector('[data-testid=share-url]').value.includes('learner=pc'));
  assert.ok(new URL(app.page.url()).hash.includes('learner=pc'), 'and so does the address bar');
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('a link to the full Sachs example waits for its download, keeps its intervention column and runs', async () => {
  const app = await site.open('#v=1&data=sachs-full&learner=sdcd&sdcd.stage1_epochs=30&sdcd.stage2_epochs=30&run=1');
  await app.waitForState('done', 120_000);
  assert.equal(await app.page.inputValue('[data-testid=intervention-column]'), 'target');
  assert.equal(await app.page.inputValue('[data-testid=param-stage1-epochs]'), '30');
  assert.equal(await app.page.locator('[data-testid=dag] [data-node]').count(), 11);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('a link naming your own file asks for it, then applies its settings and runs', async () => {
  const csv = linearGaussianCsv(['A', 'B', 'C'], [['A', 'B', 1.5], ['B', 'C', -1.2]], 600, 5);
  const app = await site.open('#v=1&data=file&data.file=chain.csv&prep.standardize=true&learner=pc&run=1');
  assert.match(await app.page.innerText('[data-testid=link-file]'), /made with the file “chain\.csv”[\s\S]*Drop it on the page/);
  assert.equal(await app.state(), 'idle', 'nothing runs before the file is there');
  await app.dropFile('chain.csv', csv);
  await app.waitForState('done');
  assert.equal(await app.page.locator('[data-testid=link-file]').count(), 0);
  assert.ok(await app.page.isChecked('[data-testid=standardize]'));
  assert.deepEqual(await app.edges(), ['A--B', 'B--C']);
  // The link for this page names the file and says it is not inside.
  await app.page.click('[data-testid=share]');
  assert.ok((await app.page.inputValue('[data-testid=share-url]')).includes('data=file&data.file=chain.csv'));
  assert.match(await app.page.innerText('[data-testid=share-panel]'), /does not contain it/);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('other data than the file a link names ends its wait, without its settings and without running', async () => {
  const csv = linearGaussianCsv(['A', 'B', 'C'], [['A', 'B', 1.5], ['B', 'C', -1.2]], 600, 5);
  const app = await site.open('#v=1&data=file&data.file=chain.csv&prep.standardize=true&learner=pc&run=1');
  await app.page.waitForSelector('[data-testid=link-file]');
  await app.dropFile('other.csv', csv);
  await app.waitForPreview();
  assert.equal(await app.page.locator('[data-testid=link-file]').count(), 0);
  assert.equal(await app.page.isChecked('[data-testid=standardize]'), false, 'the default preparation');
  assert.equal(await app.page.inputValue('[data-testid=algorithm]'), 'pc', 'the learner still comes from the link');
  await app.page.waitForTimeout(500);
  assert.equal(await app.state(), 'idle', 'the link asked to run on its own file only');
  // Dropping the named file afterwards is a plain load: the link's wait is over.
  await app.dropFile('chain.csv', csv);
  await app.page.waitForFunction(() => document.querySelector('[data-testid=preview]')?.innerText.includes('chain.csv'));
  assert.equal(await app.page.isChecked('[data-testid=standardize]'), false);
  assert.deepEqual(app.errors, []);
  await app.close();
});

test('an Infer link restores the model, its data and the sampler', async () => {
  const app = await site.open('#v=1&tab=infer&model=beta-binomial&model.heads=12&infer.method=rwmh&infer.chains=2&infer.seed=9');
  assert.equal(await app.page.getAttribute('[data-testid=tab-infer]', 'aria-selected'), 'true');
  assert.equal(await app.page.inputValue('[data-testid=model]'), 'beta-binomial');
  assert.equal(await app.page.inputValue('[data-testid=bb-heads]'), '12');
  assert.equal(await app.page.inputValue('[data-testid=sampler]'), 'rwmh');
  assert.equal(await app.page.inputValue('[data-testid=chains]'), '2');
  assert.equal(await app.page.inputValue('[data-testid=seed]'), '9');
  await app.page.click('[data-testid=share]');
  const link = await app.page.inputValue('[data-testid=share-url]');
  for (const part of ['tab=infer', 'model=beta-binomial', 'model.heads=12', 'infer.method=rwmh', 'infer.chains=2', 'infer.seed=9']) {
    assert.ok(link.split('#')[1].split('&').includes(part), `${part} in ${link}`);
  }
  assert.deepEqual(app.errors, []);
  await app.close();

  // A regression bound to generated data runs on opening, with the data's default binding.
  const reg = await site.open('#v=1&tab=infer&data=synthetic&data.n_nodes=4&model=linear-regression&infer.warmup=200&infer.draws=200&infer.chains=2&run=1');
  await reg.waitForState('done', 120_000);
  assert.equal(await reg.page.inputValue('[data-testid=outcome]'), 'X4');
  assert.deepEqual(reg.errors, []);
  await reg.close();
});

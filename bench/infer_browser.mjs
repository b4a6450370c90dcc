// Causeway's NUTS on non-centred eight schools in Chromium (release site): 4 chains ×
// (1000 warm-up + 1000 draws), one worker per chain; wall time from Run to Done and the bulk ESS
// shown in the summary table, and the cost of one gradient evaluation that the worker timed before
// the chains started ("Gradient evaluation took"), on the fresh page and again on a second run in
// the same page (warm workers, as a user's second run; one chain, so the timing has a core to
// itself). Prints one JSON line per run.
import { startSite } from '../tests/e2e/helpers.mjs';

const seeds = process.argv.slice(2).map(Number).filter(Number.isFinite);
const site = await startSite();
try {
  for (const seed of seeds.length ? seeds : [1]) {
    const app = await site.open();
    await app.page.click('[data-testid=tab-infer]');
    await app.page.selectOption('[data-testid=model]', 'eight-schools-noncentered');
    await app.page.selectOption('[data-testid=sampler]', 'nuts');
    for (const [id, v] of [['chains', 4], ['warmup', 1000], ['draws', 1000], ['seed', seed]]) {
      const sel = `[data-testid=${id}]`;
      if (await app.page.$(sel)) { await app.page.fill(sel, String(v)); await app.page.dispatchEvent(sel, 'change'); }
    }
    const workers = await app.page.evaluate(() => navigator.hardwareConcurrency);
    const t0 = Date.now();
    await app.run();
    await app.waitForState('done', 600_000);
    const wall = (Date.now() - t0) / 1000;
    const elapsed = Number(await app.page.getAttribute('[data-testid=run-state]', 'data-elapsed-ms')) / 1000;
    const ess = await app.page.$$eval('[data-testid=summary] tbody tr', (rows) => Object.fromEntries(rows.map((r) => [
      r.getAttribute('data-param'), Number(r.querySelector('[data-stat=ess_bulk]').textContent)])));
    const gradient = async () => Number(await app.page.getAttribute('[data-testid=gradient-cost]', 'data-seconds'));
    const gradientCold = await gradient();
    // Timed again on one chain, so that no other worker shares the 2 cores while it is timed
    // (the native figure is timed alone too).
    await app.page.fill('[data-testid=chains]', '1');
    await app.page.dispatchEvent('[data-testid=chains]', 'change');
    await app.run();
    await app.waitForState('done', 600_000);
    const gradientWarm = await gradient();
    console.log(JSON.stringify({ contender: 'browser', seed, wall_s: wall, elapsed_s: elapsed, hardware_concurrency: workers, ess_bulk: ess,
      gradient_s_cold: gradientCold, gradient_s_warm: gradientWarm }));
    await app.close();
  }
} finally { await site.close(); }

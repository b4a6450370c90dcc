// Page objects for the browser tests: open the site like a person, load data, run, read.
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

export const DIST = process.env.E2E_DIST || 'target/e2e-dist';
export const PUBLIC_URL = process.env.E2E_PUBLIC_URL || '/causeway/';

// Flags that work for root without a display on a closed network (see TOOLCHAIN.md).
// CHROMIUM_EXTRA adds flags, e.g. "--js-flags=--perf-basic-prof" to name the wasm functions in a
// `perf record` of a bench run (bench/wasm-native.md).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function startSite() {
  const server = await startServer(DIST, PUBLIC_URL);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...(process.env.CHROMIUM_EXTRA ? process.env.CHROMIUM_EXTRA.split(' ') : [])] });
  const offOrigin = [];
  return {
    server, browser, offOrigin,
    async open(query = '') {
      const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
      const errors = [];
      const warnings = [];
      context.on('request', (r) => {
        const u = new URL(r.url());
        if ((u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'ws:') && u.origin !== server.origin) offOrigin.push(r.url());
      });
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
        if (m.type() === 'warning') warnings.push(m.text());
      });
      await page.goto(server.url + query);
      await page.waitForSelector('[data-testid=run-state][data-state=idle]');
      return new CausewayPage(page, context, errors, warnings);
    },
    async close() { await browser.close(); await server.close(); },
  };
}

export class CausewayPage {
  constructor(page, context, errors, warnings) { this.page = page; this.context = context; this.errors = errors; this.warnings = warnings; }

  async chooseFile(name, content) {
    const buffer = Buffer.isBuffer(content) ? content : Buffer.from(content);
    await this.page.setInputFiles('input[type=file]', { name, mimeType: 'text/csv', buffer });
  }

  /** Drops a file on the page the way a drag from the desktop does. */
  async dropFile(name, text) {
    await this.page.evaluate(({ name, text }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type: 'text/csv' }));
      const target = document.querySelector('main') || document.body;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, { name, text });
  }

  async waitForPreview() { await this.page.waitForSelector('[data-testid=preview]'); }
  async errorText() {
    // Wait for a non-empty message: a previous file's error can be on screen while the page
    // replaces it, and reading it between removal and redraw gave ''.
    const read = async () => (await this.page.locator('[data-testid=error]:visible').allInnerTexts()).join('\n');
    await this.page.waitForSelector('[data-testid=error]:visible');
    for (let i = 0; i < 100; i++) {
      const text = await read();
      if (text.trim()) return text;
      await this.page.waitForTimeout(50);
    }
    return read();
  }
  /** Opens the synthetic-data generator, sets its fields (by data-testid), generates. */
  async generate(settings) {
    await this.page.click('[data-testid=example-synthetic-open]');
    for (const [testid, value] of Object.entries(settings)) {
      const el = this.page.locator(`[data-testid=${testid}]`);
      if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
      else { await el.fill(value); await el.dispatchEvent('change'); }
    }
    await this.page.click('[data-testid=example-synthetic]');
    await this.waitForPreview();
  }
  /** Types each value into its field (by data-testid), as a person edits a setting. */
  async setFields(fields) {
    for (const [testid, value] of Object.entries(fields)) {
      await this.page.fill(`[data-testid=${testid}]`, value);
      await this.page.dispatchEvent(`[data-testid=${testid}]`, 'change');
    }
  }
  /**
   * From now on, keeps every text the progress label shows, however briefly (a
   * MutationObserver sees each change; polling can miss a label that lasts one snapshot).
   */
  async recordProgress() {
    await this.page.evaluate(() => {
      const seen = (window.__progressSeen = []);
      const label = (node) => (node.nodeType === 1 ? node : node.parentElement)?.closest?.('[data-testid=progress-label]');
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.type === 'characterData') {
            if (label(r.target)) seen.push(r.oldValue, r.target.data);
            continue;
          }
          for (const n of r.addedNodes) {
            const el = label(n) || (n.nodeType === 1 ? n.querySelector('[data-testid=progress-label]') : null);
            if (el) seen.push(el.textContent);
          }
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true, characterDataOldValue: true });
    });
  }
  /** The progress labels seen since `recordProgress`. */
  async progressSeen() { return this.page.evaluate(() => window.__progressSeen); }
  /** Waits until the progress label matches `re`. */
  async waitForProgress(re, timeout = 60_000) {
    await this.page.waitForFunction((src) => new RegExp(src).test(document.querySelector('[data-testid=progress-label]')?.textContent || ''), re.source, { timeout });
  }
  async run() { await this.page.click('[data-testid=run]'); }
  async state() { return this.page.getAttribute('[data-testid=run-state]', 'data-state'); }
  async waitForState(state, timeout = 120_000) {
    await this.page.waitForSelector(`[data-testid=run-state][data-state=${state}]`, { timeout });
  }
  async edges() {
    return this.page.$$eval('[data-testid=dag] [data-edge]', (els) => els.map((e) => e.getAttribute('data-edge')).sort());
  }
  async close() { await this.context.close(); }
}

/** A seeded linear-Gaussian data set as CSV text: `edges` are [from, to, weight] over `names`. */
export function linearGaussianCsv(names, edges, n, seed = 1) {
  let s = seed >>> 0;
  const uniform = () => { s = (s + 0x6D2B79F5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const normal = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  const rows = [names.join(',')];
  for (let r = 0; r < n; r++) {
    const x = {};
    for (const name of names) { // names are given in causal order
      x[name] = normal() + edges.filter(([, to]) => to === name).reduce((acc, [from, , w]) => acc + w * x[from], 0);
    }
    rows.push(names.map((k) => x[k].toFixed(5)).join(','));
  }
  return rows.join('\n') + '\n';
}

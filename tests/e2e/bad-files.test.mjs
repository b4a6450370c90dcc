// Every kind of bad file gets a specific message that names the line, the column or the kind of
// file and says what to do, and the page keeps working afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSite, linearGaussianCsv } from './helpers.mjs';

let site;
let app;
before(async () => { site = await startSite(); app = await site.open(); });
after(async () => {
  assert.deepEqual(app.errors, [], 'no uncaught page error');
  await app.close();
  assert.deepEqual(site.offOrigin, []);
  await site.close();
});

const rows = (header, n, row) => [header, ...Array.from({ length: n }, (_, i) => row(i))].join('\n') + '\n';
const GOOD = rows('a,b,c', 30, (i) => `${i},${(i * 7) % 5},${Math.sin(i).toFixed(3)}`);

const CASES = [
  ['empty file', '', /empty/],
  ['blank lines only', '\n\n  \n', /empty/],
  ['header only', 'a,b,c\n', /header row \(line 1, 3 columns\) but no data rows/],
  ['Excel renamed .csv', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]), /Excel workbook[\s\S]*Save As → CSV UTF-8/],
  ['PNG image', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 1)]), /PNG image/],
  ['binary', Buffer.from([1, 2, 0, 0, 5, 6, 0, 9, 10, 11]), /binary/],
  ['single column', rows('a', 20, (i) => `${i}`), /only one column/],
  ['ragged row', GOOD.replace('3,1,0.141\n', '3,1\n'), /line 5 has 2 fields, but line 1 has 3/],
  ['duplicate names', GOOD.replace('a,b,c', 'a,b,a'), /"a" appears twice: column 1 and column 3/],
  ['too few rows', rows('a,b', 3, (i) => `${i},${i * 2}`), /only 3 data rows; at least 10/],
];

for (const [name, content, expected] of CASES) {
  test(`bad file: ${name}`, async () => {
    await app.chooseFile(`${name}.csv`, content);
    const text = await app.errorText();
    assert.match(text, expected);
    assert.equal(await app.page.locator('[data-testid=preview]').count(), 0);
  });
}

test('a file over 50 MB is refused before it is read', async () => {
  // Playwright passes files this large by path.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-'));
  const file = path.join(dir, 'huge.csv');
  fs.writeFileSync(file, Buffer.alloc(51 * 1024 * 1024, 0x31));
  await app.page.setInputFiles('input[type=file]', file);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.match(await app.errorText(), /51\.0 MB; Causeway reads files up to 50 MB/);
});

test('a text value in a numeric column names column, line and value, and offers to drop it', async () => {
  const data = linearGaussianCsv(['x', 'y', 'z'], [['x', 'y', 1.0], ['y', 'z', 1.0]], 200, 2).split('\n');
  data[4] = data[4].replace(/^([^,]+),([^,]+),/, '$1,oops,');
  await app.chooseFile('typo.csv', data.join('\n'));
  await app.waitForPreview();
  assert.match(await app.errorText(), /column "y", line 5: expected a number, found "oops"/);
  await app.page.click('button:has-text("Drop column “y”")');
  assert.equal(await app.page.locator('[data-testid=error]:visible').count(), 0);
  await app.run();
  await app.waitForState('done');
  // Without y, x and z are still dependent (x → y → z), so one edge joins them.
  const edges = await app.edges();
  assert.equal(edges.length, 1);
  assert.match(edges[0], /^(x->z|z->x)$/);
});

test('a categorical column and missing values are counted, with fixes', async () => {
  const data = linearGaussianCsv(['x', 'y'], [['x', 'y', 1.0]], 100, 3).split('\n');
  const lines = data.map((l, i) => (i === 0 ? `${l},group` : l ? `${l},${i % 2 ? 'ctrl' : 'treated'}` : l));
  lines[3] = lines[3].replace(/^[^,]+,/, 'NA,');
  lines[8] = lines[8].replace(/^[^,]+,/, ',');
  await app.chooseFile('mixed.csv', lines.join('\n'));
  await app.waitForPreview();
  const text = await app.errorText();
  assert.match(text, /column "group" holds text/);
  assert.match(text, /column "x" has 2 missing values \(first on line 4\)/);
  await app.page.click('button:has-text("Drop column “group”")');
  await app.page.click('button:has-text("Drop incomplete rows")');
  assert.equal(await app.page.locator('[data-testid=error]:visible').count(), 0);
  await app.run();
  await app.waitForState('done');
});

test('a constant column is a warning, not an error', async () => {
  await app.chooseFile('const.csv', rows('a,b,k', 30, (i) => `${i},${(i * 3) % 7},5`));
  await app.waitForPreview();
  assert.match(await app.page.innerText('[data-testid=warning]'), /"k"/);
  assert.equal(await app.page.locator('[data-testid=error]:visible').count(), 0);
  // A learner that cannot use it says so at Run, by the column's name.
  await app.page.selectOption('[data-testid=algorithm]', 'pc');
  await app.run();
  await app.waitForState('error');
  assert.match(await app.errorText(), /column "k" is constant[\s\S]*Drop the column "k"/);
  await app.page.selectOption('[data-testid=algorithm]', 'notears');
});

test('values too large or too small to square name their column and line at Run', async () => {
  // Line 6 (data row 5) of column "b" holds 1e200: its square overflows double precision.
  await app.chooseFile('huge.csv', GOOD.replace('4,3,-0.757', '4,1e200,-0.757'));
  await app.waitForPreview();
  await app.page.check('[data-testid=standardize]');
  await app.run();
  await app.waitForState('error');
  assert.match(await app.errorText(), /Values too large[\s\S]*column "b" holds 1\.000e200 \(line 6\)[\s\S]*Rescale the column "b"/);
  // Column "c" of values within 1e-150 of each other: their squares underflow.
  await app.chooseFile('tiny.csv', rows('a,b,c', 30, (i) => `${i},${(i * 7) % 5},${Math.sin(i).toFixed(3)}e-160`));
  await app.waitForPreview();
  await app.run();
  await app.waitForState('error');
  assert.match(await app.errorText(), /Values too small[\s\S]*column "c" holds/);
});

test('after all that, a good file still works', async () => {
  await app.chooseFile('good.csv', GOOD);
  await app.waitForPreview();
  assert.match(await app.page.innerText('[data-testid=shape]'), /30 rows × 3 columns/);
  await app.run();
  await app.waitForState('done');
});

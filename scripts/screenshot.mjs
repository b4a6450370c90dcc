// Takes the README's screenshot: the release build, Sachs loaded, NOTEARS run to the end.
// Usage: node scripts/screenshot.mjs [dist] [out.png]   (after `make build-e2e`)
import { startSite } from '../tests/e2e/helpers.mjs';

const out = process.argv[3] || 'docs/screenshot.png';
const site = await startSite();
const app = await site.open();
await app.page.setViewportSize({ width: 1440, height: 1100 });
await app.page.click('[data-testid=example-sachs]');
await app.waitForPreview();
await app.run();
await app.waitForState('done');
await app.page.screenshot({ path: out, fullPage: false });
console.log(`wrote ${out}`);
await app.close();
await site.close();

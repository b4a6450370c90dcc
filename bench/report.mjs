// Combines the scored JSON lines of `make bench` into BENCHMARKS.md.
//
// Usage: node bench/report.mjs BENCHDIR OUT.md
// Reads BENCHDIR/results.jsonl (bench_learners --score over BENCHDIR/raw/*.jsonl),
// BENCHDIR/machine.json, BENCHDIR/reference-env*.json and BENCHDIR/data/datasets.json (the
// files bench/run.sh writes).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [benchDir, out] = process.argv.slice(2);
if (!benchDir || !out) { console.error('usage: node bench/report.mjs BENCHDIR OUT.md'); process.exit(2); }

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const maybeJson = (p) => (existsSync(p) ? readJson(p) : null);
const datasets = readJson(join(benchDir, 'data', 'datasets.json'));
const machine = readJson(join(benchDir, 'machine.json'));
const refEnv = maybeJson(join(benchDir, 'reference-env.json'));
const refEnvTorch = maybeJson(join(benchDir, 'reference-env-torch.json'));
const rows = existsSync(join(benchDir, 'results.jsonl'))
  ? readFileSync(join(benchDir, 'results.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
  : [];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
// A stochastic learner (SDCD) runs once per seed for every contender: one row per seed, combined
// here into one whose time is the median over the seeds and whose SHD and F1 are their means
// (`perSeed` keeps the rows).
function combineSeeds(rs) {
  rs = [...rs].sort((a, b) => a.seed - b.seed);
  const seeds = rs.map((r) => r.seed);
  const failed = rs.find((r) => r.error) ?? rs.find((r) => r.seconds == null);
  if (failed) return { ...failed, seeds, perSeed: rs };
  const mean = (k) => (rs.every((r) => r[k] != null) ? rs.reduce((a, r) => a + r[k], 0) / rs.length : null);
  return {
    ...rs[0], seeds, perSeed: rs, seconds: median(rs.map((r) => r.seconds)),
    shd: mean('shd'), f1: mean('f1'), cpdag_shd: mean('cpdag_shd'), edges: undefined,
  };
}
const get = (learner, ds, impl) => {
  const rs = rows.filter((r) => r.learner === learner && r.dataset === ds && r.impl === impl);
  return rs.length > 1 || (rs.length === 1 && rs[0].seed != null) ? combineSeeds(rs) : rs[0];
};

// The goals of the issue: the browser at equal or better SHD than the reference, this much faster.
const LEARNERS = [
  { id: 'notears', name: 'NOTEARS', ref: 'linear.py (gCastle 1.0.4 port with linear.py\'s expm h; numpy + scipy L-BFGS-B)', goal: 20, kind: 'DAG' },
  { id: 'dagma', name: 'DAGMA', ref: '`dagma` 1.1.1 `DagmaLinear(loss_type="l2").fit(X, lambda1=0.02)` (numpy)', goal: 3, kind: 'DAG' },
  { id: 'sdcd', name: 'SDCD', ref: '`sdcd` 0.1.4 `SDCD().train(...)`, defaults (PyTorch 2.3.1, CPU)', goal: 10, kind: 'DAG' },
  { id: 'pc', name: 'PC', ref: 'causal-learn 0.1.4.8 `pc(X, 0.05, "fisherz", stable=True, uc_rule=0, uc_priority=2)`', goal: 5, kind: 'CPDAG' },
  { id: 'ges', name: 'GES', ref: 'causal-learn 0.1.4.8 `ges(X, "local_score_BIC", lambda_value=0.5)`', goal: 50, kind: 'CPDAG' },
  { id: 'xges', name: 'XGES', ref: '`xges` 0.1.6 `XGES(alpha=2.0).fit(X, extended_search=True)` (Python with numba-compiled kernels, timed after a small warm-up fit has compiled them)', goal: 1, kind: 'CPDAG' },
];
const NOT_RUN = 'not run in this session';

// Two significant digits at least (sub-millisecond native times would read 0.000 otherwise).
const fmtS = (s) => (s < 0.01 ? s.toPrecision(2) : s < 0.1 ? s.toFixed(3) : s < 10 ? s.toFixed(2) : s < 100 ? s.toFixed(1) : s.toFixed(0));
const secs = (r) => {
  if (!r) return NOT_RUN;
  if (r.error) return `failed (${r.error})`;
  if (r.seconds == null) return `> ${r.timeout} s (timeout)`;
  return fmtS(r.seconds);
};
function ratioOf(a, b) { // a / b as a number, or a lower bound when a timed out
  if (!a || !b || a.error || b.seconds == null || !(b.seconds > 0)) return null;
  if (a.seconds == null) return { lower: true, v: a.timeout / b.seconds };
  return { lower: false, v: a.seconds / b.seconds };
}
const fmtRatio = (q) => (q == null ? '–' : `${q.lower ? '> ' : ''}${q.v < 10 ? q.v.toFixed(2) : q.v.toFixed(1)}×`);
// A count as is; a mean over seeds (fractional) with two decimals.
const fmtNum = (x, digits) => (digits != null ? Number(x).toFixed(digits) : Number.isInteger(x) ? String(x) : Number(x).toFixed(2));
const v = (r, k, digits) => (r && r[k] != null ? fmtNum(r[k], digits) : '–');
const triple = (rs, k, digits) => rs.map((r) => v(r, k, digits)).join(' / ');
const sameEdges = (a, b) => {
  if (!a || !b) return false;
  if (a.perSeed || b.perSeed) {
    const pa = a.perSeed ?? [], pb = b.perSeed ?? [];
    return pa.length > 0 && pa.length === pb.length && pa.every((r, i) => r.seed === pb[i].seed && sameEdges(r, pb[i]));
  }
  return a.edges && b.edges && JSON.stringify(a.edges) === JSON.stringify(b.edges);
};
const hasEdges = (r) => r && (r.perSeed ? r.perSeed.every((x) => x.edges) : r.edges);

function goalMet(L, ds) {
  const r = get(L.id, ds.name, 'reference');
  const b = get(L.id, ds.name, 'browser');
  if (!r || !b) return { met: null, text: NOT_RUN };
  if (b.error) return { met: false, text: 'no: the browser run failed' };
  if (r.error) return { met: null, text: 'unknown: the reference failed' };
  if (b.seconds == null) return { met: false, text: 'no: the browser timed out' };
  const q = ratioOf(r, b);
  const shdOk = r.shd == null ? true : b.shd <= r.shd; // a timed-out reference has no SHD
  const fast = q && (q.lower ? q.v >= L.goal : q.v >= L.goal);
  const goalText = L.goal === 1 ? 'at least as fast' : `≥ ${L.goal}×`;
  if (q && q.lower && !fast) return { met: null, text: `unknown: reference timed out, ratio ${fmtRatio(q)} (goal ${goalText})` };
  const why = [];
  if (!fast) why.push(`${fmtRatio(q)} < ${L.goal}×`);
  if (!shdOk) why.push(`${b.perSeed ? 'mean SHD' : 'SHD'} ${fmtNum(b.shd)} > reference ${fmtNum(r.shd)}`);
  return { met: fast && shdOk, text: fast && shdOk ? `yes (${fmtRatio(q)}${r.shd == null ? ', reference SHD unknown' : ''})` : `no (${why.join('; ')})` };
}

const L = [];
L.push('# Benchmarks: six structure learners in the browser vs. native Rust vs. their Python references');
L.push('');
L.push(`Generated by \`make bench\` on ${machine.date}. Numbers from one machine at one time, on a shared`);
L.push('machine; rerun to compare. A learner or dataset without numbers below was not run in this session.');
L.push('');
L.push('## What ran');
L.push('');
L.push(`- Contenders: ${machine.parts}; learners: ${machine.learners}`);
for (const l of LEARNERS) if (machine[`datasets_${l.id}`]) L.push(`- ${l.name}: ${machine[`datasets_${l.id}`]}`);
L.push(`- Settings: ${machine.settings}`);
if (machine.seeds) L.push(`- SDCD's seeds: ${machine.seeds.split(' ').join(', ')} in every contender (see "What is timed")`);
if (machine.order === 'parts') {
  L.push('- Order: each contender\'s whole part, one after another (`BENCH_ORDER=parts`)');
  L.push(`- Load average (1, 5, 15 min) at start: ${machine.load_start ?? '–'} · native part: ${machine.load_native ?? '–'} · browser part: ${machine.load_browser ?? '–'} · reference part: ${machine.load_reference ?? '–'} · end: ${machine.load_end ?? '–'}`);
} else {
  L.push(`- Order: interleaved: each dataset (and seed) is run by every contender in turn (${machine.parts.trim()}), so that each ratio compares runs minutes apart on this shared machine, whose speed drifts over the hours`);
  L.push(`- Load average (1, 5, 15 min) at start: ${machine.load_start ?? '–'} · first run: ${machine.load_contenders ?? '–'} · end: ${machine.load_end ?? '–'}`);
}
L.push('');
L.push('Datasets (written by `examples/bench_data.rs` with `causeway::data::synthetic::generate`, seed 1, n = 1000,');
L.push('expected degree k = 2, weights ±U(0.5, 2), N(0, 1) noise, not standardized):');
L.push('');
L.push('| dataset | graph | mechanism | d | true edges |');
L.push('|---|---|---|---:|---:|');
for (const ds of datasets) L.push(`| ${ds.name} | ${ds.graph ?? 'erdos-renyi'} | ${ds.mechanism ?? 'linear'} | ${ds.d} | ${ds.true_edges} |`);
L.push('');

L.push('## Goals');
L.push('');
L.push('Goal: in the browser, at equal or better SHD than the reference, reference time / browser time at least the');
L.push('factor shown; and every learner finishes d = 50 in the browser.');
L.push('');
L.push(`| learner | goal | ${datasets.map((d) => d.name).join(' | ')} | d = 50 in the browser |`);
L.push(`|---|---|${datasets.map(() => '---').join('|')}|---|`);
for (const l of LEARNERS) {
  const cells = datasets.map((ds) => goalMet(l, ds).text);
  const d50 = datasets.filter((ds) => ds.d === 50).map((ds) => {
    const b = get(l.id, ds.name, 'browser');
    return `${ds.name}: ${b ? (b.error ? 'no (failed)' : b.seconds == null ? `no (> ${b.timeout} s)` : `yes, ${fmtS(b.seconds)} s`) : NOT_RUN}`;
  });
  L.push(`| ${l.name} | ${l.goal === 1 ? 'at least as fast as `xges`' : `≥ ${l.goal}×`} | ${cells.join(' | ')} | ${d50.join('; ')} |`);
}
L.push('');

L.push('## Summary, one table per learner');
L.push('');
L.push('Times in seconds. "browser" is the worker\'s own compute time for the job, sent with `Done` (preparing the');
L.push('data set the preview read, building the learner, every step); "native" times the same job code');
L.push('(`jobs::LearnRun`) natively; "reference" times the fit only. ref / browser is the speed-up of the page over the');
L.push('reference; wasm / native is browser / native. SHD and F1 are computed by `causeway::metrics` for every');
L.push('contender alike (`bench_learners --score`): for the DAG learners the DAG SHD (missing + extra + reversed, a');
L.push('reversal counts 1) and directed-edge F1; for the CPDAG learners (PC, GES, XGES) the SHD between the learned');
L.push('CPDAG and the true DAG\'s CPDAG (each node pair that differs in adjacency or marks counts 1, as causal-learn\'s');
L.push('`SHD`) and skeleton F1. The "CPDAG SHD" column scores every graph the second way (a DAG through its CPDAG).');
L.push('');
const slow = [];
for (const l of LEARNERS) {
  L.push(`### ${l.name} (${l.kind}) vs. ${l.ref}`);
  L.push('');
  const anyRun = datasets.some((ds) => ['reference', 'native', 'browser'].some((k) => get(l.id, ds.name, k)));
  if (!anyRun) { L.push(`${NOT_RUN}.`); L.push(''); continue; }
  L.push('| dataset | reference (s) | native (s) | browser (s) | ref / browser | wasm / native | SHD ref / native / browser | F1 ref / native / browser | CPDAG SHD ref / native / browser | browser = native graph | goal met |');
  L.push('|---|---:|---:|---:|---:|---:|---|---|---|---|---|');
  for (const ds of datasets) {
    const [r, n, b] = ['reference', 'native', 'browser'].map((k) => get(l.id, ds.name, k));
    if (!r && !n && !b) { L.push(`| ${ds.name} | ${NOT_RUN} | | | | | | | | | |`); continue; }
    const wn = ratioOf(b, n);
    if (wn && !wn.lower && wn.v > 1.5) slow.push({ l, ds, wn, n, b });
    L.push(`| ${ds.name} | ${secs(r)} | ${secs(n)} | ${secs(b)} | ${fmtRatio(ratioOf(r, b))} | ${fmtRatio(wn)} | ${triple([r, n, b], 'shd')} | ${triple([r, n, b], 'f1', 2)} | ${triple([r, n, b], 'cpdag_shd')} | ${hasEdges(n) && hasEdges(b) ? (sameEdges(n, b) ? 'yes' : 'no') : '–'} | ${goalMet(l, ds).text} |`);
  }
  L.push('');
  // Each seed of a stochastic learner: time (s) and SHD per contender.
  const seeded = datasets.map((ds) => [ds, ['reference', 'native', 'browser'].map((k) => get(l.id, ds.name, k))])
    .filter(([, rs]) => rs.some((x) => x && x.perSeed));
  if (seeded.length) {
    L.push('By seed (time in seconds, SHD), reference / native / browser:');
    L.push('');
    for (const [ds, rs] of seeded) {
      const seeds = [...new Set(rs.flatMap((x) => (x && x.perSeed ? x.perSeed.map((p) => p.seed) : [])))].sort((a, b) => a - b);
      const one = (x, seed) => {
        const p = x && x.perSeed ? x.perSeed.find((q) => q.seed === seed) : null;
        return p ? `${secs(p)} s, SHD ${v(p, 'shd')}` : '–';
      };
      L.push(`- ${ds.name}: ${seeds.map((seed) => `seed ${seed}: ${rs.map((x) => one(x, seed)).join(' / ')}`).join('; ')}`);
    }
    L.push('');
  }
}

L.push('## wasm / native above 1.5×');
L.push('');
if (!slow.length) L.push('None in this session.');
else {
  L.push('| learner | dataset | native (s) | browser (s) | wasm / native |');
  L.push('|---|---|---:|---:|---:|');
  for (const s of slow) L.push(`| ${s.l.name} | ${s.ds.name} | ${fmtS(s.n.seconds)} | ${fmtS(s.b.seconds)} | ${fmtRatio(s.wn)} |`);
  L.push('');
  const why = existsSync('bench/wasm-native.md') ? readFileSync('bench/wasm-native.md', 'utf8').trim() : '';
  if (why) L.push(why);
}
L.push('');

L.push('## What is timed');
L.push('');
L.push('- **Reference**: the fit only, in a fresh Python process per run, after reading the CSV and importing the package');
L.push('  (`bench/reference_learners.py`; NOTEARS: `bench/reference.py`, which loads gCastle\'s port of linear.py and');
L.push('  switches its acyclicity function back to linear.py\'s `expm`). One BLAS / OpenMP / torch thread');
L.push('  (`BENCH_REF_THREADS`, default 1), as a job runs in one worker of the page; SDCD\'s reference gets as many torch');
L.push('  threads as the page gives SDCD workers (`BENCH_REF_THREADS_SDCD`, default `BENCH_WORKERS`). A run over');
L.push('  `BENCH_REF_TIMEOUT` is stopped and shown as "> timeout".');
L.push('- **Workers**: the page runs SDCD\'s first stage split by variable over one worker per core, at most two');
L.push('  (`BENCH_WORKERS`, default min(nproc, 2); the result is the same to the bit), and the rest in one; its native');
L.push('  runs split the same way over as many threads (`bench_learners --workers`). Every other job runs in one worker.');
L.push('- **Seeds**: SDCD (minibatches, initial weights and the validation split are random) runs once per seed of');
L.push('  `BENCH_SEEDS` (default 0 1 2) in every contender: the reference with `set_random_seed_all` given the seed, the');
L.push('  native and browser runs with the learner\'s `seed` setting (typed into the page\'s field). One run of a');
L.push('  stochastic method is one draw; the goal compares the mean SHD over the seeds and the median time.');
L.push('- **Millisecond jobs**: a job whose median over the requested repeats is under 20 ms runs 15 times natively and');
L.push('  7 times in the page (`BENCH_SHORT_RUNS`), a reference fit under 1 s 3 times (`BENCH_SHORT_RUNS_REF`), before');
L.push('  the median is taken: one slow run of a 1 ms job would otherwise decide its verdict.');
L.push('- **Native**: `examples/bench_learners.rs`: the CSV read once (untimed, as the page\'s preview reads it), then');
L.push('  per run `jobs::LearnRun::start_cached` (default preparation and settings) and stepping to the end, release build.');
L.push('- **Browser**: `bench/browser.mjs`: a fresh page per run on the release build (`make build-e2e`, served under');
L.push('  `/causeway/`), headless Chromium; the CSV is chosen in the page\'s file input (the worker reads it for the');
L.push('  preview and keeps it, `jobs::DataCache`), the learner in the algorithm menu; once the worker says its idle');
L.push('  warm-up is over (`data-warm=done`) and one second more has passed (`BENCH_SETTLE_MS`), as a person takes');
L.push('  seconds to choose a file and a learner, Run; the time is the worker\'s `Done` compute time, the edges those');
L.push('  drawn at the default threshold.');
L.push('');
L.push('## Machine and versions');
L.push('');
L.push(`- CPU: ${machine.cpu} · ${machine.nproc} cores (nproc), shared with other work · ${machine.mem}`);
L.push(`- OS: ${machine.os}`);
const browserVersion = rows.find((r) => r.browser)?.browser;
L.push(`- Rust: ${machine.rustc} · Node: ${machine.node} · Chromium: ${browserVersion ?? machine.chromium}`);
for (const e of [refEnv, refEnvTorch]) {
  if (!e) continue;
  const pk = Object.entries(e).filter(([k]) => !['blas', 'python'].includes(k)).map(([k, x]) => `${k} ${x}`).join(', ');
  const blas = Array.isArray(e.blas) ? e.blas.map((b) => `${b.internal_api} ${b.version} (${b.num_threads} threads)`).join('; ') : '–';
  L.push(`- Reference venv: Python ${e.python}, ${pk}; BLAS: ${blas}`);
}
L.push('');
L.push('## Reproduce');
L.push('');
L.push('```sh');
L.push('make bench   # builds the release site and the examples, creates target/bench/venv{,-torch} from PyPI, runs, writes BENCHMARKS.md');
L.push('BENCH_REPEATS=1 BENCH_LEARNERS="pc ges" BENCH_DATASETS="er10 er20" make bench   # a subset');
L.push('```');
L.push('');
L.push('Knobs (environment variables): `BENCH_LEARNERS` (default all six), `BENCH_DATASETS` (default all seven),');
L.push('`BENCH_DATASETS_<LEARNER>` (e.g. `BENCH_DATASETS_SDCD="er10 nl20"`), `BENCH_PARTS` (default');
L.push('`reference native browser`), `BENCH_REPEATS` (native and browser, default 3), `BENCH_REF_REPEATS` (default 1),');
L.push('`BENCH_REF_TIMEOUT` (seconds per reference run, default 600), `BENCH_BROWSER_TIMEOUT` (default 1800),');
L.push('`BENCH_SEEDS` (SDCD\'s seeds, default `0 1 2`), `BENCH_SHORT_RUNS` / `BENCH_SHORT_RUNS_REF` (default 7 / 3), `BENCH_REF_THREADS` (default 1), `BENCH_WORKERS` (default min(nproc, 2)), `BENCH_REF_THREADS_SDCD` (default `BENCH_WORKERS`), `BENCH_NOTEARS_POLY=1` (also time gCastle\'s NOTEARS port as shipped), `BENCH_ORDER` (`interleaved`, the default, or `parts`: each contender\'s whole part in turn), `BENCH_SETTLE_LOAD` / `BENCH_SETTLE_MAX` (before the runs, and before each part with `BENCH_ORDER=parts`, wait up to 180 s for the 1-minute load average to fall below 1.5). Raw');
L.push('results: `target/bench/raw/*.jsonl`; scored: `target/bench/results.jsonl`.');
L.push('');

// `make bench-infer` keeps its own section in the same file, between markers: carry it over.
const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
const infer = previous.match(/<!-- bench-infer:start -->[\s\S]*<!-- bench-infer:end -->/);
if (infer) L.push(infer[0], '');
writeFileSync(out, L.join('\n'));
console.error(`report.mjs: wrote ${out}`);

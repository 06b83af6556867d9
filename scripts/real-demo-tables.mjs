// Markdown tables of a `demo --real --json` report (the README's and docs/real-data.md's):
//   node dist/cli.js demo --real --out demo-real --json > real.json && node scripts/real-demo-tables.mjs real.json
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? '/dev/stdin', 'utf8'));
const f = (v, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const entries = Object.keys(report.summary);
const plain = entries.filter((e) => !e.endsWith('+base'));

console.log(`### Summary (${report.seeds.length} seeds: mean ± std over seeds of the mean over held-out domains)\n`);
console.log('| entry | all: accuracy | NLL | gap closed | between: accuracy | gap closed | outside: accuracy | gap closed |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const e of plain) {
  const s = report.summary[e];
  console.log(`| ${e} | ${f(s.all.accuracy_mean)} ± ${f(s.all.accuracy_std)} | ${f(s.all.nll_mean, 2)} ± ${f(s.all.nll_std, 2)} | ${f(s.all.gap_closed, 2)} | ${f(s.between.accuracy_mean)} ± ${f(s.between.accuracy_std)} | ${f(s.between.gap_closed, 2)} | ${f(s.outside.accuracy_mean)} ± ${f(s.outside.accuracy_std)} | ${f(s.outside.gap_closed, 2)} |`);
}

console.log(`\n### With the base model as a candidate (zero adapter, prototype of the source digits)\n`);
console.log('| strategy | all: without → with | between: without → with | outside: without → with |');
console.log('| --- | ---: | ---: | ---: |');
for (const e of entries.filter((x) => x.endsWith('+base'))) {
  const p = report.summary[e.replace('+base', '')], b = report.summary[e];
  console.log(`| ${e.replace('+base', '')} | ${f(p.all.accuracy_mean)} → ${f(b.all.accuracy_mean)} | ${f(p.between.accuracy_mean)} → ${f(b.between.accuracy_mean)} | ${f(p.outside.accuracy_mean)} → ${f(b.outside.accuracy_mean)} |`);
}

const strategies = Object.keys(report.targets[0].strategies);
console.log(`\n### Per held-out domain (seed ${report.seeds[0]}, accuracy on its test split; +b: with the base candidate)\n`);
console.log(`| domain | kind | base | sft | ${strategies.join(' | ')} | ${Object.keys(report.targets[0].with_base_candidate).map((s) => `${s} +b`).join(' | ')} |`);
console.log(`| --- | --- | ---: | ---: | ${strategies.map(() => '---:').join(' | ')} | ${Object.keys(report.targets[0].with_base_candidate).map(() => '---:').join(' | ')} |`);
for (const t of report.targets) {
  console.log(`| ${t.target} | ${t.kind} | ${f(t.base.accuracy)} | ${f(t.sft.accuracy)} | ${strategies.map((s) => f(t.strategies[s]?.accuracy)).join(' | ')} | ${Object.keys(t.with_base_candidate).map((s) => f(t.with_base_candidate[s].accuracy)).join(' | ')} |`);
}

if (report.by_domain) {
  const pairs = ['convex', 'sim', 'sparse'];
  console.log(`\n### The base model as a candidate, per held-out domain (accuracy, mean ± std over ${report.seeds.length} seeds)\n`);
  console.log(`| domain | kind | base | sft | ${pairs.map((p) => `${p} | ${p} +base`).join(' | ')} |`);
  console.log(`| --- | --- | ---: | ---: | ${pairs.map(() => '---: | ---:').join(' | ')} |`);
  for (const t of report.targets) {
    const d = report.by_domain[t.target];
    const c = (e) => `${f(d[e].accuracy_mean)} ± ${f(d[e].accuracy_std)}`;
    console.log(`| ${t.target} | ${t.kind} | ${c('base')} | ${c('sft')} | ${pairs.map((p) => `${c(p)} | ${c(`${p}+base`)}`).join(' | ')} |`);
  }
}

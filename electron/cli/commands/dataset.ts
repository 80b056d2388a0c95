/** audit, stats, split, export: what is wrong with the data, what it looks like, and a clean split. */
import type { FivePoint } from '../../../shared/contract';
import { datasetHandlers as h } from '../../core/api/dataset-handlers';
import { exportDataset } from '../../core/dataset/export';
import { iterateFindings } from '../../core/dataset/findings-query';
import { positional, stringOpt, type Command } from '../command';
import { cliCore, given, numeric, parseInput } from '../contract-call';
import { OutStream, streamJsonArray } from '../stream';

export const audit: Command = {
  name: 'audit',
  usage: 'audit [--json]',
  summary: 'find what is wrong with the data (exit 0 with findings; they are the result)',
  options: {},
  async run(ctx) {
    const lib = ctx.library(false);
    const summary = await cliCore(ctx, lib, () => 'audit').call(h['audit.run'], parseInput('audit.run', {}, {}));
    // findings are streamed one at a time from the core, worst first (the Review queue's order, as
    // findings.list pages it), each with every image: a 100,000-image audit is never one array or one string
    const out = new OutStream(ctx.stdout);
    const findings = iterateFindings(lib.db, {}, 'queue');
    if (ctx.json) {
      await streamJsonArray(out, `{"summary": ${JSON.stringify(summary)},\n"findings": [`, findings, ']}\n', (f) => ({
        id: f.id, kind: f.kind, severity: f.severity, status: f.status, images: f.images, message: f.message, facts: f.facts, detail: f.detail,
      }));
      return;
    }
    await out.line(`audited ${summary.images} images in ${summary.seconds.toFixed(2)} s: ${summary.findings} findings`);
    for (const [kind, n] of Object.entries(summary.byKind).sort()) await out.line(`  ${kind.padEnd(20)} ${n}`);
    await out.line('');
    for (const f of findings) await out.line(`${f.severity.toUpperCase().padEnd(7)} ${f.kind.padEnd(18)} ${f.status === 'open' ? '' : `[${f.status}] `}${f.message}`);
    await out.flush();
  },
};

function fmt(p: FivePoint | null, digits = 0): string {
  if (!p) return 'n/a';
  const f = (v: number) => v.toFixed(digits);
  return `min ${f(p.min)} / q1 ${f(p.q1)} / median ${f(p.median)} / q3 ${f(p.q3)} / max ${f(p.max)}; ${p.outliers} outside [${f(p.lowerFence)}, ${f(p.upperFence)}]`;
}

export const stats: Command = {
  name: 'stats',
  usage: 'stats [--json]',
  summary: 'counts per class and split, formats, size and byte distributions',
  options: {},
  async run(ctx) {
    const s = await cliCore(ctx, ctx.library(false), () => 'stats').call(h['stats.get'], parseInput('stats.get', {}, {}));
    ctx.print(s, () => {
      const lines = [`${s.images} images: ${s.included} included, ${s.excluded} excluded, ${s.readable} readable and included`, '', 'class × split:'];
      for (const r of s.byClassAndSplit) lines.push(`  ${(r.label ?? '(none)').padEnd(8)} ${r.split.padEnd(11)} ${r.count}`);
      lines.push('', `formats: ${s.formats.map((f) => `${f.format} ${f.count}`).join(', ')}`);
      lines.push(`width  (px): ${fmt(s.width)}`, `height (px): ${fmt(s.height)}`, `aspect (w/h): ${fmt(s.aspect, 2)}`, `bytes: ${fmt(s.bytes)}`);
      return lines.join('\n');
    });
  },
};

export const split: Command = {
  name: 'split',
  usage: 'split [--seed N] [--val 0.15] [--test 0.15]',
  summary: 'stratified, seeded, duplicate-group-aware train/val/test split of the labelled images',
  options: { seed: { type: 'string' }, val: { type: 'string' }, test: { type: 'string' } },
  async run(ctx, args) {
    const input = parseInput(
      'split.run',
      given({ seed: numeric(stringOpt(args, 'seed')), val: numeric(stringOpt(args, 'val')), test: numeric(stringOpt(args, 'test')) }),
      { seed: '--seed', val: '--val', test: '--test' },
    );
    const result = await cliCore(ctx, ctx.library(false), () => 'split').call(h['split.run'], input);
    ctx.print(result, () => {
      const lines = [`split with seed ${result.seed}: ${result.groups} duplicate groups kept whole, ${result.leaks} leaks`];
      for (const c of result.counts) lines.push(`  ${c.label.padEnd(8)} ${c.split.padEnd(6)} ${c.count}`);
      return lines.join('\n');
    });
  },
};

export const exportCmd: Command = {
  name: 'export',
  usage: 'export OUT_DIR',
  summary: 'write the cleaned dataset (included images + labels.csv) to a new folder',
  options: {},
  async run(ctx, args) {
    const out = positional(args, 0, 'OUT_DIR');
    const result = exportDataset(ctx.library(false).db, out);
    ctx.print(result, () => `exported ${result.images} labelled images${result.submission > 0 ? ` and ${result.submission} submission images` : ''} to ${result.outDir}`);
  },
};

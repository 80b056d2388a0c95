/** `mask-studio import DIR`: the Zindi layout or class-per-folder, incremental and idempotent. */
import type { ImportSummary } from '../../../shared/contract';
import { importDataset } from '../../core/dataset/import';
import { positional, stringOpt, type Command } from '../command';

function describe(s: ImportSummary): string {
  const lines = [
    `imported ${s.files} files (${s.layout} layout) in ${s.seconds.toFixed(1)} s: ${s.added} added, ${s.unchanged} unchanged, ${s.changed} changed, ${s.relinked} relinked`,
    `  labelled ${s.labelled}, submission (unlabelled test) ${s.submission}, unlabelled ${s.unlabelled}, unreadable ${s.unreadable}${s.missing > 0 ? `, missing since the last import ${s.missing}` : ''}`,
    `  classes: ${s.classes.join(', ')}`,
  ];
  if (s.badRows.length > 0) {
    lines.push(`  ${s.badRows.length} bad row${s.badRows.length === 1 ? '' : 's'} (imported the rest; 'mask-studio audit' lists them too):`);
    for (const b of s.badRows.slice(0, 20)) lines.push(`    ${b.message}`);
    if (s.badRows.length > 20) lines.push(`    … and ${s.badRows.length - 20} more (--json lists all)`);
  }
  if (s.skipped.length > 0) {
    lines.push(`  ${s.skipped.length} entr${s.skipped.length === 1 ? 'y' : 'ies'} not imported:`);
    for (const k of s.skipped.slice(0, 10)) lines.push(`    ${k.file}: ${k.reason}`);
    if (s.skipped.length > 10) lines.push(`    … and ${s.skipped.length - 10} more (--json lists all)`);
  }
  return lines.join('\n');
}

export const importCmd: Command = {
  name: 'import',
  usage: 'import DIR [--labels CSV] [--test-dir DIR] [--sample-submission CSV] [--classes A,B]',
  summary: 'import a labelled image folder (Zindi layout with --labels, else one subfolder per class)',
  options: {
    labels: { type: 'string' },
    'test-dir': { type: 'string' },
    'sample-submission': { type: 'string' },
    classes: { type: 'string' },
  },
  async run(ctx, args) {
    const dir = positional(args, 0, 'DIR (the image folder)');
    const labels = stringOpt(args, 'labels');
    const testDir = stringOpt(args, 'test-dir');
    const sample = stringOpt(args, 'sample-submission');
    const classes = stringOpt(args, 'classes')?.split(',').map((c) => c.trim()).filter((c) => c !== '');
    const lib = ctx.library(true);
    const summary = await importDataset(
      lib.db,
      {
        dir,
        ...(labels ? { labels } : {}),
        ...(testDir ? { testDir } : {}),
        ...(sample ? { sampleSubmission: sample } : {}),
        ...(classes ? { classes } : {}),
      },
      { onProgress: ctx.progress('import') },
    );
    ctx.print(summary, () => describe(summary));
  },
};

/** `mask-studio import DIR`: the Zindi layout or class-per-folder, incremental and idempotent. */
import type { ImportSummary } from '../../../shared/contract';
import { importProblems } from '../../../shared/import-text';
import { importDataset } from '../../core/dataset/import';
import { positional, stringOpt, type Command } from '../command';

function describe(s: ImportSummary): string {
  const lines = [
    `imported ${s.files} files (${s.layout} layout) in ${s.seconds.toFixed(1)} s: ${s.added} added, ${s.unchanged} unchanged, ${s.changed} changed, ${s.relinked} relinked`,
    `  labelled ${s.labelled}, submission (unlabelled test) ${s.submission}, unlabelled ${s.unlabelled}, unreadable ${s.unreadable}${s.missing > 0 ? `, missing since the last import ${s.missing}` : ''}`,
    `  classes: ${s.classes.join(', ')}`,
  ];
  const problems = importProblems(s, 20);
  for (const note of problems.notes) lines.push(`  note: ${note}`);
  if (problems.total > 0) {
    lines.push(`  ${problems.total} bad row${problems.total === 1 ? '' : 's'} (imported the rest; 'mask-studio audit' lists them too):`);
    for (const row of problems.rows) lines.push(`    ${row}`);
    if (problems.more > 0) lines.push(`    … and ${problems.more} more (--json lists all)`);
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

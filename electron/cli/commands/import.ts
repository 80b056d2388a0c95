/** `mask-studio import DIR`: the Zindi layout or class-per-folder, incremental and idempotent. */
import type { ImportSummary } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import { importProblems } from '../../../shared/import-text';
import { importDataset } from '../../core/dataset/import';
import { positional, stringOpt, type Command } from '../command';
import { cliCore, given, parseInput } from '../contract-call';

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
    // import.start's schema (the app's import job also audits; the CLI leaves that to 'mask-studio audit')
    const input = parseInput(
      'import.start',
      given({
        dir: positional(args, 0, 'DIR (the image folder)'),
        labels: stringOpt(args, 'labels'),
        testDir: stringOpt(args, 'test-dir'),
        sampleSubmission: stringOpt(args, 'sample-submission'),
        classes: stringOpt(args, 'classes')?.split(',').map((c) => c.trim()).filter((c) => c !== ''),
      }),
      { dir: 'DIR', labels: '--labels', testDir: '--test-dir', sampleSubmission: '--sample-submission', classes: '--classes' },
    );
    const lib = ctx.library(true);
    // a job like the app's, so a killed import is seen as interrupted (a re-run completes it)
    const core = cliCore(ctx, lib, () => 'import');
    const outcome: { summary?: ImportSummary; error?: unknown } = {};
    const jobId = core.jobs.start('import', input, async (job) => {
      try {
        outcome.summary = await importDataset(lib.db, input, { signal: job.signal, onProgress: ctx.progress('import') });
        return outcome.summary;
      } catch (err) {
        outcome.error = err;
        throw err;
      }
    });
    await core.wait(jobId, 'the import');
    if (outcome.error !== undefined) throw outcome.error;
    const summary = outcome.summary;
    if (summary === undefined) throw new AppError('CANCELLED', 'the import was cancelled; a re-run completes it');
    ctx.print(summary, () => describe(summary));
  },
};

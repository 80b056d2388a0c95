/** Contract handlers for compare (contract-compare.ts): thin calls into core/compare. */
import { join } from 'node:path';
import { compareRuns } from '../compare/compare';
import { createEnsemble } from '../compare/ensemble';
import { evaluateRun } from '../compare/evaluate';
import { exportsDir, modelExportName } from '../paths/exports';
import { getRun, runsLackingSplit } from '../ml/runs/store';
import type { CoreContext } from './context';
import type { HandlerTable } from './dataset-handlers';

/**
 * Runs stopped early (interrupted, cancelled) hold their checkpoint's validation scores only: before a
 * reader needs the test or submission rows, they are scored with the checkpoint (TensorFlow.js loads only
 * then). A run that cannot be scored stays as it is; the comparison says why it is skipped.
 */
async function scoreStoppedRuns(ctx: CoreContext, splits: ReadonlyArray<'test' | 'submission'>, runRefs?: readonly string[]): Promise<void> {
  const ids = runRefs?.map((ref) => getRun(ctx.lib.db, ref).id);
  const pending = [...new Set(splits.flatMap((split) => runsLackingSplit(ctx.lib.db, split, ids)))];
  if (pending.length === 0) return;
  const { tryScoreLateSplits } = await import('../ml/inference/checkpoint-scores');
  await tryScoreLateSplits(ctx.lib, pending, splits);
}

export const compareHandlers: HandlerTable<'compare.list' | 'compare.run' | 'ensemble.create' | 'runs.export'> = {
  'compare.list': async (ctx, input) => {
    if (input.split === 'test') await scoreStoppedRuns(ctx, ['test']);
    return compareRuns(ctx.lib.db, input.split);
  },
  'compare.run': async (ctx, input) => {
    if (input.split === 'test') await scoreStoppedRuns(ctx, ['test'], [input.id]);
    return evaluateRun(ctx.lib.db, input.id, input.split);
  },
  'ensemble.create': async (ctx, input) => {
    await scoreStoppedRuns(ctx, ['test', 'submission'], input.runs);
    return { runId: createEnsemble(ctx.lib.db, input.runs, input.name) };
  },
  'runs.export': async (ctx, input) => {
    // TensorFlow.js and the exporter load on the first export, not when the app starts
    const [{ chooseBackend }, { exportRunModel }, { getRun }] = await Promise.all([
      import('../ml/backend/train-backend'),
      import('../ml/inference/export-model'),
      import('../ml/runs/store'),
    ]);
    const run = getRun(ctx.lib.db, input.id);
    if (input.format === 'onnx') await chooseBackend('auto'); // the export reads the tfjs checkpoint's weights
    const r = await exportRunModel(ctx.lib, run.id, input.format, join(exportsDir(ctx.lib), modelExportName(run.id, input.format)), input.tta);
    return { dir: r.dir, files: r.files };
  },
};

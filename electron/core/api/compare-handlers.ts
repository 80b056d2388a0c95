/** Contract handlers for compare (contract-compare.ts): thin calls into core/compare. */
import { join } from 'node:path';
import { compareRuns } from '../compare/compare';
import { createEnsemble } from '../compare/ensemble';
import { evaluateRun } from '../compare/evaluate';
import { exportsDir, modelExportName } from '../paths/exports';
import type { HandlerTable } from './dataset-handlers';

export const compareHandlers: HandlerTable<'compare.list' | 'compare.run' | 'ensemble.create' | 'runs.export'> = {
  'compare.list': (ctx, input) => compareRuns(ctx.lib.db, input.split),
  'compare.run': (ctx, input) => evaluateRun(ctx.lib.db, input.id, input.split),
  'ensemble.create': (ctx, input) => ({ runId: createEnsemble(ctx.lib.db, input.runs, input.name) }),
  'runs.export': async (ctx, input) => {
    // TensorFlow.js and the exporter load on the first export, not when the app starts
    const [{ chooseBackend }, { exportRunModel }, { getRun }] = await Promise.all([
      import('../ml/backend/train-backend'),
      import('../ml/inference/export-model'),
      import('../ml/runs/store'),
    ]);
    const run = getRun(ctx.lib.db, input.id);
    if (input.format === 'onnx') await chooseBackend('auto'); // the export reads the tfjs checkpoint's weights
    const r = await exportRunModel(ctx.lib, run.id, input.format, join(exportsDir(ctx.lib), modelExportName(run.id, input.format)));
    return { dir: r.dir, files: r.files };
  },
};

/** Contract handlers for training: runs.* and train.*, each a thin call into core/ml. */
import { deleteRun, startTraining } from '../ml/train/start';
import { getRun, listRuns, runEpochs, runPredictions } from '../ml/runs/store';
import { trainModels } from '../ml/train/plan';
import type { HandlerTable } from './dataset-handlers';

export const trainingHandlers: HandlerTable<'train.start' | 'train.models' | 'runs.list' | 'runs.get' | 'runs.predictions' | 'runs.delete'> = {
  'train.start': (ctx, input) => {
    const { runId, jobId, warnings } = startTraining(ctx.lib, ctx.jobs, input);
    return { runId, jobId, warnings };
  },
  'train.models': () => trainModels(),
  'runs.list': (ctx) => listRuns(ctx.lib.db),
  'runs.get': (ctx, input) => {
    const run = getRun(ctx.lib.db, input.id);
    return { ...run, epochs: runEpochs(ctx.lib.db, run.id) };
  },
  'runs.predictions': (ctx, input) => runPredictions(ctx.lib.db, getRun(ctx.lib.db, input.id).id),
  'runs.delete': async (ctx, input) => ({ deleted: await deleteRun(ctx.lib, input.id) }),
};

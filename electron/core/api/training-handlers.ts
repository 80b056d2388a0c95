/** Contract handlers for training: runs.* and train.*, each a thin call into core/ml. */
import { NAMED_WEIGHTS } from '../../../shared/names';
import { checkPagePath } from '../paths/data-roots';
import { runsOnOtherData } from '../ml/runs/data-changed';
import { deleteRun, getRun, listRuns, runEpochs, runPredictionsPage, trainingSet } from '../ml/runs/store';
import type { HandlerTable } from './dataset-handlers';

// TensorFlow.js and the models load with the first run, after the cheap refusals: the CLI
// calls these handlers too, and must refuse an unsplit library without loading hundreds of megabytes.
const engine = () => import('../ml/train/start');
// which models have weights here: the registry it reads imports TensorFlow.js too
const plan = () => import('../ml/train/plan');

export const trainingHandlers: HandlerTable<'train.start' | 'train.models' | 'runs.list' | 'runs.dataChanged' | 'runs.get' | 'runs.predictions' | 'runs.delete'> = {
  'train.start': async (ctx, input) => {
    // A weights file named by a page is read like an import's files: only inside the allowed folders.
    if (input.weights !== undefined && !(NAMED_WEIGHTS as readonly string[]).includes(input.weights)) {
      checkPagePath(ctx.readRoots, input.weights, 'the weights file');
    }
    ctx.jobs.refuseSecond('train', 'a training run');
    trainingSet(ctx.lib.db); // an empty, unsplit or one-class library is refused here, before anything loads
    const { startTraining } = await engine();
    const { runId, jobId, warnings } = startTraining(ctx.lib, ctx.jobs, input);
    return { runId, jobId, warnings };
  },
  'train.models': async () => (await plan()).trainModels(),
  'runs.list': (ctx) => listRuns(ctx.lib.db),
  'runs.dataChanged': (ctx) => runsOnOtherData(ctx.lib.db),
  'runs.get': (ctx, input) => {
    const run = getRun(ctx.lib.db, input.id);
    return { ...run, epochs: runEpochs(ctx.lib.db, run.id) };
  },
  'runs.predictions': (ctx, input) => runPredictionsPage(ctx.lib.db, getRun(ctx.lib.db, input.id).id, input),
  'runs.delete': async (ctx, input) => ({ deleted: await deleteRun(ctx.lib, input.id) }),
};

/** Contract handlers for the label doubts (contract-compare.ts): thin calls into core/doubts. */
import { acceptDoubt, doubtsInfo, listDoubts } from '../doubts/store';
import type { HandlerTable } from './dataset-handlers';

export const doubtsHandlers: HandlerTable<'doubts.start' | 'doubts.list' | 'doubts.info' | 'doubts.accept'> = {
  'doubts.start': (ctx, input) => {
    ctx.jobs.refuseSecond('doubts', 'a label doubts computation');
    const jobId = ctx.jobs.start('doubts', input, async (job) => {
      // TensorFlow.js, ONNX Runtime and the models load with the first computation, not with the server
      const { computeDoubts, toDoubtsResult } = await import('../doubts/compute');
      const report = await computeDoubts(ctx.lib, {
        run: input.run,
        model: input.model,
        folds: input.folds,
        seed: input.seed,
        inputSize: input.inputSize,
        weights: input.weights,
        tta: input.tta,
        faces: input.faces,
        calibrate: input.calibrate,
        trials: input.trials,
        flipRate: input.flipRate,
        ...(input.engine !== undefined ? { engine: input.engine } : {}),
        signal: job.signal,
        progress: job.progress,
      });
      ctx.emit({ name: 'library.changed', payload: { what: 'findings' } });
      return toDoubtsResult(report);
    }, { queue: true });
    return { jobId };
  },
  'doubts.list': (ctx) => listDoubts(ctx.lib.db),
  'doubts.info': (ctx) => doubtsInfo(ctx.lib.db),
  'doubts.accept': (ctx, input) => {
    const accepted = acceptDoubt(ctx.lib.db, input.findingId);
    ctx.emit({ name: 'library.changed', payload: { what: 'labels' } });
    ctx.emit({ name: 'library.changed', payload: { what: 'findings' } });
    return accepted;
  },
};

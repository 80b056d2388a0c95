/**
 * Contract handlers of contract-evaluate.ts: evaluate.folders lists a folder's subfolders for the app's dialog;
 * evaluate.start refuses bad input first, then starts a job into core/compare/external.
 */
import { listExternal, planExternal } from '../compare/external-folder';
import { checkPagePath } from '../paths/data-roots';
import type { HandlerTable } from './dataset-handlers';

export const evaluateHandlers: HandlerTable<'evaluate.folders' | 'evaluate.start'> = {
  'evaluate.folders': (ctx, input) => listExternal(ctx.lib.db, checkPagePath(ctx.readRoots, input.folder, 'the labelled folder')),
  'evaluate.start': (ctx, input) => {
    // a folder named by a page is read like an import's: only inside the allowed folders
    checkPagePath(ctx.readRoots, input.folder, 'the labelled folder');
    // unknown or unfinished runs, a missing folder, unmatched subfolders, a class without images: refused now
    const plan = planExternal(ctx.lib.db, input);
    const jobId = ctx.jobs.start('evaluate', input, async (job) => {
      // TensorFlow.js and ONNX Runtime load with the first evaluation, not with the server
      const { evaluateExternal } = await import('../compare/external');
      return evaluateExternal(ctx.lib, plan, input, { signal: job.signal, progress: job.progress });
    }, { queue: true });
    return { jobId };
  },
};

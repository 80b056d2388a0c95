/** Contract handlers for compare (contract-compare.ts): thin calls into core/compare. */
import { compareRuns } from '../compare/compare';
import { createEnsemble } from '../compare/ensemble';
import { evaluateRun } from '../compare/evaluate';
import type { HandlerTable } from './dataset-handlers';

export const compareHandlers: HandlerTable<'compare.list' | 'compare.run' | 'ensemble.create'> = {
  'compare.list': (ctx, input) => compareRuns(ctx.lib.db, input.split),
  'compare.run': (ctx, input) => evaluateRun(ctx.lib.db, input.id, input.split),
  'ensemble.create': (ctx, input) => ({ runId: createEnsemble(ctx.lib.db, input.runs, input.name) }),
};

/** Contract handlers for the Zindi submission (contract-compare.ts): what a run can write, and writing it. */
import { checkSubmission, writeSubmission } from '../ml/inference/submission';
import type { HandlerTable } from './dataset-handlers';

export const submissionHandlers: HandlerTable<'submission.check' | 'submission.write'> = {
  'submission.check': (ctx, input) => checkSubmission(ctx.lib, input.id),
  'submission.write': (ctx, input) =>
    writeSubmission(ctx.lib, input.id, input.out, {
      ...(input.fill !== undefined ? { fill: input.fill } : {}),
      ...(input.partial !== undefined ? { partial: input.partial } : {}),
    }),
};

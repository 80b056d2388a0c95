/** Contract handlers for the Zindi submission (contract-compare.ts): what a run can write, and writing it. */
import { join } from 'node:path';
import { checkSubmission, writeSubmission } from '../ml/inference/submission';
import { getRun } from '../ml/runs/store';
import { exportsDir, submissionFileName } from '../paths/exports';
import type { HandlerTable } from './dataset-handlers';

export const submissionHandlers: HandlerTable<'submission.check' | 'submission.write'> = {
  'submission.check': (ctx, input) => checkSubmission(ctx.lib, input.id),
  'submission.write': (ctx, input) =>
    writeSubmission(ctx.lib, input.id, join(exportsDir(ctx.lib), submissionFileName(getRun(ctx.lib.db, input.id).id)), {
      ...(input.fill !== undefined ? { fill: input.fill } : {}),
      ...(input.partial !== undefined ? { partial: input.partial } : {}),
      ...(input.tta !== undefined ? { tta: input.tta } : {}),
    }),
};

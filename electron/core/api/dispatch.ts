/**
 * The one entry for every front end: validate the input against the contract, call the handler. Errors
 * leave as AppError (a code and a message a person can act on); zod's complaints become BAD_INPUT in plain sentences
 * (shared/validation-text.ts).
 */
import { isMethodName, methods, type MethodName } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import { describeValidation } from '../../../shared/validation-text';
import type { CoreContext } from './context';
import { compareHandlers } from './compare-handlers';
import { datasetHandlers, type HandlerTable } from './dataset-handlers';
import { doctorHandlers } from './doctor-handlers';
import { doubtsHandlers } from './doubts-handlers';
import { evaluateHandlers } from './evaluate-handlers';
import { explainHandlers } from './explain-handlers';
import { reportHandlers } from './report-handlers';
import { submissionHandlers } from './submission-handlers';
import { trainingHandlers } from './training-handlers';

export const handlers: HandlerTable<MethodName> = {
  ...datasetHandlers,
  ...trainingHandlers,
  ...doctorHandlers,
  ...compareHandlers,
  ...doubtsHandlers,
  ...evaluateHandlers,
  ...explainHandlers,
  ...reportHandlers,
  ...submissionHandlers,
};

export async function dispatch(ctx: CoreContext, method: string, input: unknown): Promise<unknown> {
  if (!isMethodName(method)) throw new AppError('UNKNOWN_METHOD', `no method '${method}'`);
  const schema = methods[method].input;
  // reportInput: the sentence can quote what was sent ("(got -3)")
  const parsed = schema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new AppError('BAD_INPUT', describeValidation(parsed.error.issues));
  const handler = handlers[method] as (ctx: CoreContext, input: unknown) => unknown;
  return await handler(ctx, parsed.data);
}

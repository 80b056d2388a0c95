/**
 * The one entry for every front end: validate the input against the contract, call the handler. Errors
 * leave as AppError (a code and a message a person can act on); zod's complaints become BAD_INPUT.
 */
import { z } from 'zod';
import { isMethodName, methods, type MethodName } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import type { CoreContext } from './context';
import { compareHandlers } from './compare-handlers';
import { datasetHandlers, type HandlerTable } from './dataset-handlers';
import { doctorHandlers } from './doctor-handlers';
import { doubtsHandlers } from './doubts-handlers';
import { explainHandlers } from './explain-handlers';
import { reportHandlers } from './report-handlers';
import { trainingHandlers } from './training-handlers';

export const handlers: HandlerTable<MethodName> = {
  ...datasetHandlers,
  ...trainingHandlers,
  ...doctorHandlers,
  ...compareHandlers,
  ...doubtsHandlers,
  ...explainHandlers,
  ...reportHandlers,
};

function describeIssues(method: string, error: z.ZodError): string {
  const parts = error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'input'}: ${i.message}`);
  return `${method}: ${parts.join('; ')}`;
}

export async function dispatch(ctx: CoreContext, method: string, input: unknown): Promise<unknown> {
  if (!isMethodName(method)) throw new AppError('UNKNOWN_METHOD', `no method '${method}'`);
  const schema = methods[method].input;
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw new AppError('BAD_INPUT', describeIssues(method, parsed.error));
  const handler = handlers[method] as (ctx: CoreContext, input: unknown) => unknown;
  return await handler(ctx, parsed.data);
}

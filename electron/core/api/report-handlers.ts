/** Contract handlers for report (contract-compare.ts). Being built this session: each throws until its core lands. */
import { AppError } from '../../../shared/errors';
import type { HandlerTable } from './dataset-handlers';

const notYet = (method: string): never => {
  throw new AppError('INTERNAL', `${method} is not built yet`);
};

export const reportHandlers: HandlerTable<'report.write'> = {
  'report.write': () => notYet('report.write'),
};

/** Contract handlers for compare (contract-compare.ts). Being built this session: each throws until its core lands. */
import { AppError } from '../../../shared/errors';
import type { HandlerTable } from './dataset-handlers';

const notYet = (method: string): never => {
  throw new AppError('INTERNAL', `${method} is not built yet`);
};

export const compareHandlers: HandlerTable<'compare.list' | 'compare.run' | 'ensemble.create'> = {
  'compare.list': () => notYet('compare.list'),
  'compare.run': () => notYet('compare.run'),
  'ensemble.create': () => notYet('ensemble.create'),
};

/** Contract handlers for doubts (contract-compare.ts). Being built this session: each throws until its core lands. */
import { AppError } from '../../../shared/errors';
import type { HandlerTable } from './dataset-handlers';

const notYet = (method: string): never => {
  throw new AppError('INTERNAL', `${method} is not built yet`);
};

export const doubtsHandlers: HandlerTable<'doubts.start' | 'doubts.list' | 'doubts.accept'> = {
  'doubts.start': () => notYet('doubts.start'),
  'doubts.list': () => notYet('doubts.list'),
  'doubts.accept': () => notYet('doubts.accept'),
};

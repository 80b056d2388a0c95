// The training worker's entry: a worker thread starts without the parent's TypeScript loader, so it
// registers tsx (as bin/mask-studio.mjs does) before loading the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');

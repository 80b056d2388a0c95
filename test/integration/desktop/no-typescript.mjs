// `node --import ./no-typescript.mjs`: from here on, in this thread and in every worker it starts (workers
// inherit the --import), loading tsx or a .ts file is an error. What runs from out/ must be plain JavaScript.
import { register } from 'node:module';

register('./no-typescript-hooks.mjs', import.meta.url);

/**
 * Where the training worker is, seen from the module that starts it. Two layouts run the same code:
 * - the sources under tsx (CLI, tests, `serve`): the caller is a `.ts` file and the worker is the `.mjs` shim
 *   beside it, which registers tsx in the new thread (a worker does not inherit the parent's loader) and loads
 *   `worker.ts`;
 * - the build (`out/main`, what Electron runs and packages): the worker is its own entry, plain JavaScript,
 *   at `out/main/train-worker.js`, while the caller was bundled into `out/main/index.js` or a shared chunk
 *   in `out/main/chunks/`. electron.vite.config.ts names both from the constants below.
 */

/** The main build's folder for shared chunks (below its entries). */
export const BUILD_CHUNKS_DIR = 'chunks';
/** The built worker's entry name; its file is `<name>.js` beside the other entries. */
export const BUILT_WORKER_ENTRY = 'train-worker';
/** The source shim that loads `worker.ts` through tsx. */
const SOURCE_WORKER = 'worker.mjs';

export function trainWorkerUrl(callerUrl: string): URL {
  const caller = new URL(callerUrl);
  if (caller.pathname.endsWith('.ts')) return new URL(`./${SOURCE_WORKER}`, caller);
  const inChunks = new URL('.', caller).pathname.endsWith(`/${BUILD_CHUNKS_DIR}/`);
  return new URL(`${inChunks ? '../' : './'}${BUILT_WORKER_ENTRY}.js`, caller);
}

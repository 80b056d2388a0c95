/**
 * One build for the three Electron processes. Our folders are not electron-vite's defaults, so every entry is
 * named. Main is ESM (package "type": "module") with the native packages left to Node's resolver; the preload
 * is one CommonJS file because a sandboxed preload can only `require('electron')`; the renderer is plain
 * Svelte 5 and is also what `mask-studio serve` hands to a browser.
 *
 * Main has more entries than Electron's: the training worker (a thread needs a file of its own, and a packaged
 * app has no TypeScript loader) and the core a front end needs without Electron (`library`: open or create a
 * library; `session`: dispatch() and the jobs over one library), so plain Node can run the built code
 * (test/integration/desktop) and `index.js` imports them rather than carrying copies.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { BUILD_CHUNKS_DIR, BUILT_WORKER_ENTRY } from './electron/core/ml/train/worker-url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Native or heavy packages: loaded by Node at run time, never bundled. */
const NATIVE = ['better-sqlite3', 'sharp', 'onnxruntime-node', /^@tensorflow\//, 'h5wasm', 'ws', 'tsx'];

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'electron/main/index.ts'),
          [BUILT_WORKER_ENTRY]: resolve(root, 'electron/core/ml/train/worker.ts'),
          library: resolve(root, 'electron/core/library.ts'),
          session: resolve(root, 'electron/server/session.ts'),
        },
        external: NATIVE,
        // trainWorkerUrl() finds the worker from these two names.
        output: { entryFileNames: '[name].js', chunkFileNames: `${BUILD_CHUNKS_DIR}/[name]-[hash].js` },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // Sandboxed: nothing but 'electron' may be required, so the preload is self-contained.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [svelte()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      // Relative asset URLs: the same build loads from file://, studio:// and http://host/ alike.
      assetsDir: 'assets',
      // electron-vite leaves the renderer unminified; minified it is a third of the bytes to fetch and parse
      // before the first cell is drawn (serve mode fetches it over the network)
      minify: true,
      rolldownOptions: { input: { index: resolve(root, 'renderer/index.html') } },
    },
    base: './',
  },
});

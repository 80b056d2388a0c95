/**
 * One build for the three Electron processes. Our folders are not electron-vite's defaults, so every entry is
 * named. Main is ESM (package "type": "module") with the native packages left to Node's resolver; the preload
 * is one CommonJS file because a sandboxed preload can only `require('electron')`; the renderer is plain
 * Svelte 5 and is also what `mask-studio serve` hands to a browser.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Native or heavy packages: loaded by Node at run time, never bundled. */
const NATIVE = ['better-sqlite3', 'sharp', 'onnxruntime-node', /^@tensorflow\//, 'h5wasm', 'ws', 'tsx'];

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      externalizeDeps: true,
      rolldownOptions: {
        input: { index: resolve(root, 'electron/main/index.ts') },
        external: NATIVE,
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
      rolldownOptions: { input: { index: resolve(root, 'renderer/index.html') } },
    },
    base: './',
  },
});

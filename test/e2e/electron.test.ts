/**
 * The desktop shell, where the Electron binary exists: the window opens on the app's own origin, the page
 * has `bridge.call` / `bridge.onEvent` and nothing of Node, and a call reaches core. Skipped, with the reason,
 * where the binary is missing (ELECTRON_SKIP_BINARY_DOWNLOAD, offline CI) or Electron's SQLite build is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { _electron } from 'playwright-core';
import { REPO_ROOT, tempDir } from '../helpers';
import { ensureBuilt } from './harness';
import type { PageGlobals } from './page-types';

function electronBinary(): string | null {
  const pathFile = join(REPO_ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(REPO_ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

function sqliteForElectron(): string | null {
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
  const file = join(REPO_ROOT, '.cache', 'electron-native', `electron-${version}-${process.platform}-${process.arch}`, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  return existsSync(file) ? file : null;
}

const exe = electronBinary();
const binding = sqliteForElectron();
const skip = !exe
  ? 'the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD or offline): `node node_modules/electron/install.js` gets it'
  : !binding
    ? "Electron's better-sqlite3 build is missing: run `npm start` once (it builds it, with internet)"
    : false;

test('Electron smoke: sandboxed window, bridge only, a call reaches core', { skip }, async (t) => {
  if (!exe || !binding) return;
  ensureBuilt();
  const home = tempDir('electron', t);
  const app = await _electron.launch({
    executablePath: exe,
    args: [REPO_ROOT],
    env: { ...process.env, MASK_STUDIO_HOME: home, MASK_STUDIO_SQLITE_BINDING: binding },
  });
  try {
    const page = await app.firstWindow();
    await page.getByTestId('nav-library').waitFor();
    assert.match(page.url(), /^studio:\/\/app\//);
    const surface = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return { bridge: Object.keys(g.bridge ?? {}).sort(), node: typeof g.require, process: typeof g.process };
    });
    assert.deepEqual(surface, { bridge: ['call', 'onEvent'], node: 'undefined', process: 'undefined' });
    const info = await page.evaluate(() => (globalThis as unknown as PageGlobals).bridge?.call('library.info', {}));
    assert.equal(info?.ok, true);
    const refused = await page.evaluate(() => (globalThis as unknown as PageGlobals).bridge?.call('no.such.method', {}));
    assert.deepEqual(refused?.ok === false ? refused.error.code : null, 'UNKNOWN_METHOD');
  } finally {
    await app.close();
  }
});

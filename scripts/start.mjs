#!/usr/bin/env node
// `npm start`: build the app, make sure Electron can load better-sqlite3, launch Electron. Where the Electron
// binary is missing (installed with ELECTRON_SKIP_BINARY_DOWNLOAD, or offline), say so, how to get it, and
// offer `npm run serve` (the same studio in a browser).
//
// better-sqlite3 is not N-API: node_modules holds the build for Node (the CLI and the tests use it). Electron
// gets its own copy in .cache/electron-native/electron-<version>-<platform>-<arch>/, built once with
// @electron/rebuild (prebuilt binaries first, which like the Electron binary need internet) and handed to the
// main process as MASK_STUDIO_SQLITE_BINDING.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function say(text) {
  process.stderr.write(`${text}\n`);
}

/** The Electron executable, without triggering electron's own download-on-require. */
function electronBinary() {
  const dir = join(root, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
}

const exe = electronBinary();
const electronVersion = require('electron/package.json').version;
if (!exe) {
  say(`Mask Studio: the Electron ${electronVersion} binary is not installed here (node_modules/electron/dist is missing:
it is skipped when ELECTRON_SKIP_BINARY_DOWNLOAD is set, and it cannot be downloaded offline).

To get it (needs internet once):
  node node_modules/electron/install.js
then run 'npm start' again.

Meanwhile the same studio runs in your browser:
  npm run serve            (prints http://127.0.0.1:PORT/?token=... to open)`);
  process.exit(1);
}

if (!run(npx, ['electron-vite', 'build'])) process.exit(1);

const bsqlVersion = require('better-sqlite3/package.json').version;
const nativeDir = join(root, '.cache', 'electron-native', `electron-${electronVersion}-${process.platform}-${process.arch}`);
const moduleDir = join(nativeDir, 'node_modules', 'better-sqlite3');
const binding = join(moduleDir, 'build', 'Release', 'better_sqlite3.node');
if (!existsSync(binding)) {
  say(`Building better-sqlite3 ${bsqlVersion} for Electron ${electronVersion} (once) into ${nativeDir}`);
  mkdirSync(nativeDir, { recursive: true });
  writeFileSync(join(nativeDir, 'package.json'), JSON.stringify({ name: 'mask-studio-electron-native', private: true, dependencies: { 'better-sqlite3': bsqlVersion } }, null, 2));
  const source = join(root, 'node_modules', 'better-sqlite3');
  cpSync(source, moduleDir, { recursive: true, filter: (src) => !src.startsWith(join(source, 'build')) });
  // A prebuilt binary for this Electron first (seconds); else compile against Electron's headers.
  const prebuilt = run(process.execPath, [require.resolve('prebuild-install/bin.js'), '--runtime', 'electron', '--target', electronVersion, '--arch', process.arch], { cwd: moduleDir });
  const built =
    prebuilt ||
    run(npx, ['--yes', '@electron/rebuild@4', '--version', electronVersion, '--module-dir', nativeDir, '--only', 'better-sqlite3', '--force']);
  if (!built || !existsSync(binding)) {
    say(`Mask Studio: could not build better-sqlite3 for Electron ${electronVersion} (this needs internet once, and a C++ toolchain when no prebuilt binary exists).
Use 'npm run serve' for the studio in a browser meanwhile.`);
    process.exit(1);
  }
}

const child = spawnSync(exe, ['.', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, MASK_STUDIO_SQLITE_BINDING: binding },
});
process.exit(child.status ?? 0);

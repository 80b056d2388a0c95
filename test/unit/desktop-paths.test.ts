/**
 * Where the desktop app keeps things: libraries and weights under dataHome(), never in Electron's userData
 * (settings and Chromium's caches) nor in Windows' roaming profile; and the real path of an unpacked file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { posix, sep, win32 } from 'node:path';
import { unpackedPath } from '../../electron/core/asar';
import { dataHome } from '../../electron/core/library';
import { userDataDir } from '../../electron/main/settings';

/** Electron's appData per platform (its docs: %APPDATA%, ~/Library/Application Support, $XDG_CONFIG_HOME or ~/.config). */
const PLATFORMS = [
  { platform: 'win32', home: 'C:\\Users\\ada', env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, appData: 'C:\\Users\\ada\\AppData\\Roaming', path: win32 },
  { platform: 'darwin', home: '/Users/ada', env: {}, appData: '/Users/ada/Library/Application Support', path: posix },
  { platform: 'linux', home: '/home/ada', env: {}, appData: '/home/ada/.config', path: posix },
] as const;

function inside(path: typeof posix, child: string, parent: string): boolean {
  const rel = path.relative(parent.toLowerCase(), child.toLowerCase());
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

test('libraries and weights are neither in userData nor, on Windows, in the roaming profile', () => {
  for (const p of PLATFORMS) {
    const home = dataHome(p.platform, p.env, p.home);
    const userData = userDataDir(p.appData);
    assert.ok(!inside(p.path, home, userData) && !inside(p.path, userData, home), `${p.platform}: ${home} vs userData ${userData}`);
    // Windows' appData is the roaming profile
    if (p.platform === 'win32') assert.ok(!inside(p.path, home, p.appData), `${home} is in the roaming profile`);
  }
  assert.equal(dataHome('win32', PLATFORMS[0].env, PLATFORMS[0].home), 'C:\\Users\\ada\\AppData\\Local\\Mask Studio');
  assert.equal(dataHome('win32', {}, 'C:\\Users\\ada'), 'C:\\Users\\ada\\AppData\\Local\\Mask Studio');
  assert.equal(dataHome('darwin', {}, '/Users/ada'), '/Users/ada/Library/Application Support/Mask Studio');
  assert.equal(dataHome('linux', { XDG_DATA_HOME: '/data/ada' }, '/home/ada'), '/data/ada/mask-studio');
});

test('userData is pinned to mask-studio, whatever product name an installer gives the app', () => {
  assert.equal(userDataDir('/home/ada/.config'), posix.join('/home/ada/.config', 'mask-studio'));
});

test('unpackedPath: a file under app.asar that was unpacked is read from app.asar.unpacked', () => {
  const inArchive = ['', 'opt', 'Mask Studio', 'resources', 'app.asar', 'node_modules', 'x', 'a.wasm'].join(sep);
  const real = inArchive.replace(`${sep}app.asar${sep}`, `${sep}app.asar.unpacked${sep}`);
  assert.equal(unpackedPath(inArchive, (p) => p === real), real);
  // left in the archive (nothing unpacked there), or not in a package at all: the path is kept
  assert.equal(unpackedPath(inArchive, () => false), inArchive);
  const plain = ['', 'repo', 'node_modules', 'x', 'a.wasm'].join(sep);
  assert.equal(unpackedPath(plain, () => true), plain);
});

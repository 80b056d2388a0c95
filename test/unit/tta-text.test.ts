/** TTA in words is written once (shared/tta-text.ts) and read by the CLI, Train, Compare, Grad-CAM and Review alike. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TTA_MODES } from '../../shared/names';
import { ttaText } from '../../shared/scored-on';
import { ttaModeText, ttaOptionText, ttaViewsText } from '../../shared/tta-text';

test('every TTA mode has its views, its menu text and its word', () => {
  assert.deepEqual(
    TTA_MODES.map((m) => [ttaViewsText(m), ttaOptionText(m), ttaModeText(m)]),
    [
      ['the image alone', 'none: the image alone', 'no TTA'],
      ['the image and its mirror', 'flip: the image and its mirror', 'TTA flip'],
      ['the image, its mirror and their centre crops', 'flip-crops: the image, its mirror and their centre crops', 'TTA flip-crops'],
    ],
  );
  assert.equal(ttaModeText(null), 'TTA mixed');
  assert.equal(ttaText({ tta: 'flip', faces: true }), 'TTA flip, faces');
  assert.equal(ttaText({ tta: null, faces: false }), 'TTA mixed');
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|svelte)$/.test(name) ? [full] : [];
  });
}

test('no component or command spells out a mode\'s views on its own', () => {
  const root = join(import.meta.dirname, '..', '..');
  const spelled = [...sources(join(root, 'renderer', 'src')), ...sources(join(root, 'shared')), ...sources(join(root, 'electron', 'cli'))]
    .filter((f) => !f.endsWith('tta-text.ts'))
    .filter((f) => /the image and its mirror|their centre crops|image \+ mirror/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(spelled, []);
});

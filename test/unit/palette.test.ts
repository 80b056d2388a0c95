/** Colour means one thing: a class's palette and a split's share no colour, and the views take both from lib/palette.ts. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SPLITS } from '../../shared/contract';
import { CLASS_COLOURS, classColour, NEUTRAL_COLOUR, SPLIT_COLOURS, UNLABELLED_COLOUR } from '../../renderer/src/lib/palette';
import { REPO_ROOT } from '../helpers';

/** A colour's hue in degrees, and its saturation (0–1), from #rrggbb. */
function hsl(hex: string): { hue: number; sat: number } {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  const l = (max + min) / 2;
  const sat = d === 0 ? 0 : d / (1 - Math.abs(2 * l - 1));
  const hue = d === 0 ? 0 : max === r ? (60 * ((g - b) / d) + 360) % 360 : max === g ? 60 * ((b - r) / d) + 120 : 60 * ((r - g) / d) + 240;
  return { hue, sat };
}

/** A colour's lightness (0–1), from #rrggbb. */
function lightness(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255) as [number, number, number];
  return (Math.max(r, g, b) + Math.min(r, g, b)) / 2;
}

test('class and split colours are two palettes with no colour, and no hue, in common', () => {
  assert.deepEqual(Object.keys(SPLIT_COLOURS).sort(), [...SPLITS].sort(), 'every split has its colour');
  const splits = new Set(Object.values(SPLIT_COLOURS).map((c) => c.toLowerCase()));
  assert.equal(splits.size, SPLITS.length, 'each split its own colour');
  const classes = [...CLASS_COLOURS, UNLABELLED_COLOUR, NEUTRAL_COLOUR].map((c) => c.toLowerCase());
  assert.equal(new Set(CLASS_COLOURS).size, CLASS_COLOURS.length);
  for (const c of classes) assert.ok(!splits.has(c), `${c} is both a class's (or neutral) and a split's colour`);
  // the splits are cool hues (or greys); no class is drawn in a hue a split could be taken for
  for (const c of Object.values(SPLIT_COLOURS)) {
    const { hue, sat } = hsl(c);
    assert.ok(sat < 0.4 || (hue > 185 && hue < 240), `split colour ${c} is cyan to indigo, or a grey (hue ${hue.toFixed(0)}, saturation ${sat.toFixed(2)})`);
  }
  // and each split is told from the others at a glance: its hue or its lightness differs
  const splitColours = Object.values(SPLIT_COLOURS);
  for (const [i, a] of splitColours.entries()) {
    for (const b of splitColours.slice(i + 1)) {
      const [ha, hb] = [hsl(a), hsl(b)];
      const hueGap = Math.min(Math.abs(ha.hue - hb.hue), 360 - Math.abs(ha.hue - hb.hue));
      assert.ok(hueGap >= 12 || Math.abs(lightness(a) - lightness(b)) >= 0.2 || Math.abs(ha.sat - hb.sat) >= 0.4, `${a} and ${b} are too alike`);
    }
  }
  for (const c of CLASS_COLOURS) {
    const { hue } = hsl(c);
    assert.ok(hue < 180 || hue > 250, `class colour ${c} is not a split's blue (hue ${hue.toFixed(0)})`);
  }
  assert.equal(classColour(0), CLASS_COLOURS[0]);
  assert.equal(classColour(1), CLASS_COLOURS[1]);
  assert.equal(classColour(null), UNLABELLED_COLOUR);
  assert.equal(classColour(CLASS_COLOURS.length), CLASS_COLOURS[0], 'more classes than colours: the palette repeats');
});

test('the views that draw classes and splits take their colours from the palette, not from literals of their own', () => {
  const read = (p: string): string => readFileSync(join(REPO_ROOT, 'renderer', 'src', p), 'utf8');
  for (const file of ['views/InsightsView.svelte', 'components/ImageGrid.svelte', 'lib/charts.ts']) {
    const text = read(file).replace(/<style>[\s\S]*<\/style>/, '');
    assert.deepEqual(text.match(/#[0-9a-f]{6}\b/gi) ?? [], [], `${file} names colours itself`);
  }
  assert.doesNotMatch(read('app.css'), /--class-/, 'class colours are not defined a second time in CSS');
  assert.match(read('views/InsightsView.svelte'), /from '\.\.\/lib\/palette'/);
});

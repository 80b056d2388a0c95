/**
 * Styles written once: the overlay backdrop, the modal dialog and the facts list live in renderer/src/app.css,
 * and a component's <style> only says how it differs (its width, its layer, how dark its backdrop is).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers';

const SRC = join(REPO_ROOT, 'renderer', 'src');

function componentStyles(): Array<{ file: string; css: string }> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.svelte'));
  return files.map((file) => ({ file, css: readFileSync(join(SRC, file), 'utf8').match(/<style>([\s\S]*?)<\/style>/)?.[1] ?? '' }));
}

/** One declaration block per rule, whitespace collapsed: "selector { a: b; c: d; }". */
function rules(css: string): Array<{ selector: string; body: string }> {
  return [...css.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/([^{}]+)\{([^{}]*)\}/g)].map((m) => ({ selector: (m[1] ?? '').trim(), body: (m[2] ?? '').replace(/\s+/g, ' ').trim() }));
}

const SHARED: Array<{ what: string; declarations: RegExp }> = [
  { what: 'a full-window backdrop (position: fixed; inset: 0)', declarations: /position: fixed; inset: 0;/ },
  { what: "the facts list's two columns", declarations: /grid-template-columns: max-content 1fr;/ },
  { what: "a dialog's right-aligned buttons", declarations: /display: flex; justify-content: flex-end; gap: 8px;/ },
  { what: "a dialog field's name above its input", declarations: /^display: flex; flex-direction: column; gap: 4px;$/ },
  { what: "a dialog's path input beside its button", declarations: /^display: flex; gap: 6px;$/ },
];

test('app.css holds the backdrop, the dialog and the facts list', () => {
  const app = rules(readFileSync(join(SRC, 'app.css'), 'utf8'));
  for (const selector of ['.backdrop', '.dialog', '.dialog .actions', '.dialog label', '.dialog .field', '.dialog .small', '.dialog .warn', 'dl.facts', 'dl.facts dt', 'dl.facts dd']) {
    assert.ok(app.some((r) => r.selector === selector), `app.css has no ${selector} rule`);
  }
});

test('no component writes those rules again', () => {
  const copies: string[] = [];
  for (const { file, css } of componentStyles()) {
    for (const r of rules(css)) {
      for (const s of SHARED) if (s.declarations.test(r.body)) copies.push(`${file} ${r.selector}: ${s.what}`);
    }
  }
  assert.deepEqual(copies, []);
});

/** The page's pure pieces: the filter sent to images.list, the duplicate keeper, numbers for people, the grid's fling test. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, ImageRow } from '../../shared/contract';
import { DEFAULT_FILTER, toImageFilter } from '../../renderer/src/lib/filters';
import { isDuplicate, keeperOf } from '../../renderer/src/lib/findings';
import { formatBytes, formatEta, percent, precisionRecall, throughput } from '../../renderer/src/lib/format';
import { FLING_PX_PER_S, ScrollPace } from '../../renderer/src/lib/scroll-pace';
import { BURST_MS, oneKeyEdit, SearchPace } from '../../renderer/src/lib/search-pace';

function row(id: number, relPath: string, width: number, height: number, bytes: number): ImageRow {
  return {
    id, path: `/data/${relPath}`, relPath, fileName: relPath, bytes, sha256: 'x', format: 'jpeg', width, height, channels: 3, space: 'srgb',
    hasAlpha: false, orientation: null, decodeStatus: 'ok', decodeError: null, phash: null, label: '1', split: 'unassigned', excluded: false,
    excludeReason: null, missing: false,
  };
}

function finding(kind: Finding['kind'], detail: Record<string, unknown>, imageIds: number[]): Finding {
  return { id: 1, key: 'k', kind, severity: 'warning', images: [], imageIds, imageCount: imageIds.length, message: '', facts: [], detail, status: 'open' };
}

describe('toImageFilter', () => {
  test('the default filter asks for everything', () => {
    assert.deepEqual(toImageFilter(DEFAULT_FILTER), {});
  });
  test('each control maps to its contract field', () => {
    assert.deepEqual(toImageFilter({ label: '', split: 'val', excluded: 'excluded', finding: 'with', search: '  cat ' }), {
      label: null,
      split: 'val',
      excluded: true,
      hasFinding: true,
      search: 'cat',
    });
    assert.deepEqual(toImageFilter({ ...DEFAULT_FILTER, label: '1', excluded: 'included', finding: 'near-duplicate' }), {
      label: '1',
      excluded: false,
      findingKind: 'near-duplicate',
    });
    assert.deepEqual(toImageFilter({ ...DEFAULT_FILTER, finding: 'without', search: '   ' }), { hasFinding: false });
  });
});

describe('keeperOf', () => {
  const images = [row(1, 'a.jpg', 100, 100, 5000), row(2, 'b.jpg', 300, 200, 4000), row(3, 'c.jpg', 300, 200, 9000)];
  test("follows the audit's suggestion", () => {
    assert.equal(keeperOf(finding('exact-duplicate', { suggestedKeeper: 'a.jpg' }, [1, 2, 3]), images), 1);
  });
  test('else the largest image, then the most bytes', () => {
    assert.equal(keeperOf(finding('near-duplicate', {}, [1, 2, 3]), images), 3);
    assert.equal(keeperOf(finding('near-duplicate', { suggestedKeeper: 'gone.jpg' }, [1, 2]), images.slice(0, 2)), 2);
    assert.equal(keeperOf(finding('near-duplicate', {}, []), []), null);
  });
  test('only duplicate kinds are duplicates', () => {
    assert.equal(isDuplicate(finding('exact-duplicate', {}, [])), true);
    assert.equal(isDuplicate(finding('near-duplicate', {}, [])), true);
    assert.equal(isDuplicate(finding('label-conflict', {}, [])), false);
  });
});

describe('format', () => {
  test("a frozen transfer run's speed on cached features does not read as the whole network's (real data: 2304 vs 56 img/s)", () => {
    assert.equal(throughput(56.4, 'pixels').text, '56 img/s');
    assert.equal(throughput(2304.2, 'features').text, '2,304 img/s, head only');
    assert.match(throughput(2304.2, 'features').title, /not comparable/);
    assert.equal(throughput(12, null).text, '12 img/s');
    assert.equal(throughput(null, 'features').text, '–');
  });
  test('bytes, ETA and percent read as a person expects', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(2048), '2.0 KB');
    assert.equal(formatBytes(205.147), '205 B', 'a fence or a mean is not a whole number of bytes');
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MB');
    assert.equal(formatEta(null), '');
    assert.equal(formatEta(42_000), '42 s left');
    assert.equal(formatEta(125_000), '2 min 05 s left');
    assert.equal(formatEta(3 * 3600_000 + 60_000), '3 h 1 min left');
    assert.equal(percent(1, 4), 25);
    assert.equal(percent(5, 0), 0);
    assert.equal(percent(9, 4), 100);
  });
});

test("compare: precision and recall of 0 at 0.5 say no positive was found, not only '0.0% / 0.0%'", () => {
  assert.deepEqual(precisionRecall(0, 0), { text: '0.0% / 0.0%', note: 'no positive found at 0.5' });
  assert.deepEqual(precisionRecall(0.8125, 0.5), { text: '81.3% / 50.0%', note: null });
});

describe('the grid tells a fling from reading (thumbnails wait for the fling to end)', () => {
  const frames = (pace: ScrollPace, step: number, frameMs: number, n: number, t0 = 0): boolean[] =>
    Array.from({ length: n }, (_, i) => pace.observe((i + 1) * step, t0 + (i + 1) * frameMs));
  test('the bench\'s 240 px a frame at 60 fps, and a dragged scrollbar, are flings', () => {
    assert.deepEqual(frames(new ScrollPace(), 240, 1000 / 60, 5).slice(1), [true, true, true, true]);
    assert.ok(new ScrollPace().observe(0, 0) === false);
    const drag = new ScrollPace();
    drag.observe(0, 1000);
    assert.equal(drag.observe(20_000, 1100), true);
  });
  test('a wheel at a reading pace, a keyboard step after a pause and the first event are not', () => {
    // 100 px notches 50 ms apart: 2,000 px/s
    assert.ok(frames(new ScrollPace(), 100, 50, 10).every((f) => !f));
    // 40 px a frame at 60 fps: 2,400 px/s
    assert.ok(frames(new ScrollPace(), 40, 1000 / 60, 10).every((f) => !f));
    const keys = new ScrollPace();
    keys.observe(0, 0);
    assert.equal(keys.observe(176, 400), false);
    assert.equal(new ScrollPace().observe(50_000, 10), false);
  });
  test('the threshold is the documented one', () => {
    const at = (pxPerS: number): boolean => {
      const p = new ScrollPace();
      p.observe(0, 0);
      return p.observe(pxPerS, 1000);
    };
    assert.equal(at(FLING_PX_PER_S), false);
    assert.equal(at(FLING_PX_PER_S + 1), true);
  });
});

describe('the name search asks at once for one change, once per typed word', () => {
  test('a single key after a pause runs now; the keys of a word wait for the last', () => {
    const pace = new SearchPace();
    assert.equal(pace.input(1000, 'c'), 'now');
    // a word typed at 120 ms a key: every key after the first waits (only the last one's timer survives)
    assert.deepEqual([[1120, 'ca'], [1240, 'cat'], [1360, 'ca']].map(([t, v]) => pace.input(Number(t), String(v))), ['later', 'later', 'later']);
    // a pause longer than a burst: the next change runs at once again
    assert.equal(pace.input(1360 + BURST_MS, 'cat'), 'now');
    assert.equal(pace.input(1360 + 2 * BURST_MS + 1, 'cats'), 'now');
  });

  test('a paste, a cleared box or an autocompletion runs now, even inside a burst', () => {
    const pace = new SearchPace('img_');
    assert.equal(pace.input(1000, 'img_1'), 'now');
    assert.equal(pace.input(1100, 'img_12'), 'later');
    assert.equal(pace.input(1150, ''), 'now');
    assert.equal(pace.input(1200, '070'), 'now');
    assert.equal(pace.input(1250, '0707.jpg'), 'now');
    assert.equal(pace.input(1300, '0707.jp'), 'later');
  });

  test('one key is one character typed, deleted or replaced anywhere in the box', () => {
    for (const [a, b] of [['', 'a'], ['ab', 'abc'], ['abc', 'ac'], ['abc', 'xbc'], ['abc', 'abd']]) assert.equal(oneKeyEdit(a!, b!), true, `${a} → ${b}`);
    for (const [a, b] of [['abc', 'abc'], ['', 'ab'], ['abc', 'a'], ['abc', 'xyc'], ['ab', 'ba']]) assert.equal(oneKeyEdit(a!, b!), false, `${a} → ${b}`);
  });
});

/**
 * The real Spot the Mask data (../shared/data/spot-the-mask), when present: import all 1,302 labelled and
 * 315 test images through the CLI, and check the audit reports the facts known about this set.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ImportSummary, SplitSummary } from '../../../shared/contract';
import { parseJson, realData, runCli, tempDir } from '../../helpers';

interface AuditDoc {
  summary: { images: number; byKind: Record<string, number> };
  findings: Array<{ kind: string; severity: string; images: string[]; message: string; detail: Record<string, unknown> }>;
}

const data = realData();

describe('real Spot the Mask data', { skip: 'skip' in data ? data.skip : false }, () => {
  test('import, audit and split report the known facts', async (t) => {
    if ('skip' in data) return;
    const lib = join(tempDir('real', t), 'lib');
    const imp = await runCli([
      'import', join(data.dir, 'images'),
      '--labels', join(data.dir, 'labels.csv'),
      '--test-dir', join(data.dir, 'test_images'),
      '--sample-submission', join(data.dir, 'sample_submission.csv'),
      '--library', lib, '--json',
    ]);
    assert.equal(imp.code, 0, imp.stderr);
    const summary = parseJson<ImportSummary>(imp.stdout);
    assert.equal(summary.labelled, 1302);
    assert.equal(summary.submission, 315);
    assert.equal(summary.unlabelled, 0);
    assert.equal(summary.badRows.length, 0);
    assert.deepEqual(summary.classes, ['0', '1']);

    const aud = await runCli(['audit', '--json', '--library', lib]);
    assert.equal(aud.code, 0, aud.stderr);
    const doc = parseJson<AuditDoc>(aud.stdout);
    const of = (kind: string) => doc.findings.filter((f) => f.kind === kind);
    const base = (p: string) => p.split('/').pop()!.replace(/\.[^.]+$/, '');

    for (const kind of ['unreadable', 'truncated', 'empty-file', 'not-an-image', 'missing-file', 'unknown-label', 'unlabelled']) {
      assert.equal(of(kind).length, 0, `${kind}: ${JSON.stringify(of(kind).map((f) => f.images))}`);
    }
    assert.deepEqual(of('extension-mismatch').map((f) => f.images), [['xuwjsmyeocmdzyfdrfihgpidzainpg.jpg']]);
    const colour = of('colour-space');
    assert.deepEqual(colour.filter((f) => f.detail['reason'] === 'cmyk').map((f) => f.images), [['jbmhymhbpiobylwbugudyfpnkmisbc.jpg']]);
    assert.equal(colour.filter((f) => f.detail['reason'] === 'alpha').length, 2);

    const groups = [...of('near-duplicate'), ...of('exact-duplicate')].map((f) => f.images.map(base).sort().join('+'));
    for (const pair of [
      ['hliwxrvmssilvybjbccoaxecnltylv', 'llzvwiafucclynnqdfdelujavtdbku'],
      ['ofpvlsvfmxdlakaztvzwwdegjvdofc', 'qqagdvzvzvpdpelujmkvfcdcxrgans'],
      ['sdfklgwygtjlxmwtbggmobikmuuzaw', 'wrgixgvogbvrvrvslnkuweluxuqlwq'],
    ]) {
      assert.ok(groups.some((g) => pair.every((p) => g.includes(p))), `${pair.join(' / ')} not in a near-duplicate group: ${groups.join(', ')}`);
    }
    assert.equal(of('exact-duplicate').length, 0, 'the set has no byte-identical files');
    const leaks = of('split-leak').map((f) => f.images.map(base).sort().join('+'));
    assert.ok(leaks.includes('sdfklgwygtjlxmwtbggmobikmuuzaw+wrgixgvogbvrvrvslnkuweluxuqlwq'), leaks.join(', '));
    const png = of('shortcut').find((f) => f.detail['feature'] === 'format' && f.detail['value'] === 'png');
    assert.ok(png, 'the PNG shortcut (59 of 61 PNGs are class 1) is reported');
    assert.match(png.message, /^59 of the 61 PNGs are 'mask' \(97 % vs 49 % overall\)/);

    // Zindi's original sample lists 509 test images, 315 of them here: said once, one grouped warning
    const original = await runCli([
      'import', join(data.dir, 'images'), '--labels', join(data.dir, 'labels.csv'), '--test-dir', join(data.dir, 'test_images'),
      '--sample-submission', join(data.dir, 'original', 'SampleSubmission.csv'), '--library', lib, '--json',
    ]);
    assert.equal(original.code, 0, original.stderr);
    const o = parseJson<ImportSummary>(original.stdout);
    assert.deepEqual([o.sampleRows, o.sampleRowsWithoutFile, o.submission, o.notes.length], [509, 194, 315, 1]);
    const withOriginal = parseJson<AuditDoc>((await runCli(['audit', '--json', '--library', lib])).stdout);
    const missing = withOriginal.findings.filter((f) => f.kind === 'missing-file' || f.kind === 'unknown-label');
    assert.deepEqual(missing.map((f) => [f.kind, f.severity, f.detail['count']]), [['missing-file', 'warning', 194]]);

    const split = await runCli(['split', '--seed', '3', '--json', '--library', lib]);
    assert.equal(split.code, 0, split.stderr);
    const s = parseJson<SplitSummary>(split.stdout);
    assert.equal(s.leaks, 0);
    assert.equal(s.counts.reduce((a, c) => a + c.count, 0), 1302);
    const again = parseJson<AuditDoc>((await runCli(['audit', '--json', '--library', lib])).stdout);
    const internal = again.findings.filter((f) => f.kind === 'split-leak' && f.severity === 'error');
    assert.equal(internal.length, 0, `leaks inside train/val/test after the split: ${JSON.stringify(internal)}`);
  });
});

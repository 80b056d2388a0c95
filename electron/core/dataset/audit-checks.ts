/**
 * The audit's checks. Each returns draft findings: a kind, a severity, the images (rows, or names a CSV
 * gave for files that do not exist), a message a person can act on, and the evidence in `detail`.
 */
import type { FindingKind, Severity } from '../../../shared/contract';
import type { DuplicateGroup } from './audit-groups';
import type { ImageRecord } from './images';
import { formatOfExtension } from './scan';
import { OUTLIER_K, OUTLIER_RULE, sizeSummary } from '../stats/statistics';
import { FEATURE_WORDS, featureValue, valueImages } from './audit-words';
import { extensionOf } from './walk';

export interface DraftFinding {
  kind: FindingKind;
  severity: Severity;
  images: ImageRecord[];
  /** Names of files a CSV row gave that have no image row. */
  extraNames?: string[];
  message: string;
  detail: Record<string, unknown>;
  /** Stable identity across audits (by content, not row id), so a person's decision survives. */
  key: string;
}

const DECODE_KIND = {
  empty: 'empty-file',
  'not-an-image': 'not-an-image',
  truncated: 'truncated',
  unreadable: 'unreadable',
  'too-large': 'unreadable',
} as const;

export function fileChecks(images: readonly ImageRecord[], exists: (path: string) => boolean): DraftFinding[] {
  const out: DraftFinding[] = [];
  for (const img of images) {
    if (img.missing === 1 || !exists(img.path)) {
      out.push({
        kind: 'missing-file',
        severity: 'error',
        images: [img],
        message: `${img.rel_path}: the file is gone from ${img.path} (moved or deleted since import); re-import its folder to relink a moved copy`,
        detail: { path: img.path },
        key: `missing-file:${img.sha256}:${img.path}`,
      });
    }
    if (img.decode_status !== 'ok') {
      const kind = DECODE_KIND[img.decode_status];
      const what =
        img.decode_status === 'empty'
          ? 'is empty (0 bytes)'
          : img.decode_status === 'not-an-image'
            ? 'is not an image'
            : img.decode_status === 'truncated'
              ? 'is truncated'
              : img.decode_status === 'too-large'
                ? 'is larger than the pixel limit'
                : 'cannot be decoded';
      out.push({
        kind,
        severity: 'error',
        images: [img],
        message: `${img.rel_path} ${what}${img.decode_error ? `: ${img.decode_error}` : ''}`,
        detail: { decoder: img.decode_error, bytes: img.bytes, magic: img.magic },
        key: `${kind}:${img.sha256}`,
      });
    }
    const promised = formatOfExtension(extensionOf(img.file_name));
    const actual = img.magic ?? img.format;
    if (promised !== null && actual !== null && promised !== actual) {
      out.push({
        kind: 'extension-mismatch',
        severity: 'warning',
        images: [img],
        message: `${img.rel_path} is a ${actual.toUpperCase()} file with a .${extensionOf(img.file_name)} extension`,
        detail: { extension: extensionOf(img.file_name), actual },
        key: `extension-mismatch:${img.sha256}`,
      });
    }
    if (img.decode_status === 'ok') {
      const reasons: Array<[string, string]> = [];
      if (img.space === 'cmyk') reasons.push(['cmyk', 'is CMYK (converted to sRGB for training)']);
      else if (img.space === 'b-w' || img.space === 'grey16' || img.channels === 1 || (img.channels === 2 && img.has_alpha === 1)) {
        reasons.push(['grey', 'is greyscale (expanded to 3 channels for training)']);
      }
      if (img.has_alpha === 1) reasons.push(['alpha', 'has an alpha channel (flattened on white for training)']);
      for (const [reason, text] of reasons) {
        out.push({
          kind: 'colour-space',
          severity: reason === 'cmyk' ? 'warning' : 'info',
          images: [img],
          message: `${img.rel_path} ${text}`,
          detail: { reason, space: img.space, channels: img.channels, hasAlpha: img.has_alpha === 1 },
          key: `colour-space:${reason}:${img.sha256}`,
        });
      }
    }
  }
  return out;
}

const sideOf = (img: ImageRecord): string | null => (img.split === 'unassigned' ? null : img.split);
const shaKey = (imgs: readonly ImageRecord[]) => [...new Set(imgs.map((i) => i.sha256))].sort().join(',');

export function groupChecks(groups: readonly DuplicateGroup[]): DraftFinding[] {
  const out: DraftFinding[] = [];
  for (const g of groups) {
    const names = g.images.map((i) => i.rel_path);
    out.push({
      kind: g.kind === 'exact' ? 'exact-duplicate' : 'near-duplicate',
      severity: 'warning',
      images: g.images,
      message:
        g.kind === 'exact'
          ? `${g.images.length} files have the same bytes: ${names.join(', ')}`
          : `${g.images.length} images look alike (dHash distance ≤ ${g.maxDistance}): ${names.join(', ')}`,
      detail: {
        maxDistance: g.maxDistance,
        members: g.images.map((i) => ({ image: i.rel_path, label: i.label, split: i.split, width: i.width, height: i.height, bytes: i.bytes })),
        // The largest file keeps the most information.
        suggestedKeeper: [...g.images].sort((a, b) => (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0) || b.bytes - a.bytes)[0]!.rel_path,
      },
      key: `${g.kind}-duplicate:${shaKey(g.images)}`,
    });
    const included = g.images.filter((i) => i.excluded === 0);
    const labelled = included.filter((i) => i.label !== null && i.split !== 'submission');
    const labels = new Set(labelled.map((i) => i.label));
    if (labels.size > 1) {
      out.push({
        kind: 'label-conflict',
        severity: 'error',
        images: labelled,
        message: `${g.kind === 'exact' ? 'identical' : 'near-identical'} images carry different labels: ${labelled.map((i) => `${i.rel_path} = ${i.label}`).join(', ')}`,
        detail: { labels: labelled.map((i) => ({ image: i.rel_path, label: i.label })) },
        key: `label-conflict:${shaKey(labelled)}`,
      });
    }
    const sides = new Set(included.map(sideOf).filter((s): s is string => s !== null));
    const labelledPool = included.some((i) => i.split === 'unassigned' && i.label !== null);
    const leak = sides.size > 1 || (sides.has('submission') && labelledPool);
    if (leak) {
      // Inside train/val/test a leak inflates the scores a person reads; against the unlabelled submission
      // set no score here is touched (submission rows are never scored), only the leaderboard's.
      const internal = [...sides].filter((s) => s !== 'submission').length > 1;
      const where = included.map((i) => `${i.rel_path}: ${i.split === 'unassigned' ? 'labelled' : i.split}`).join(', ');
      const same = g.kind === 'exact' ? 'identical' : 'near-identical';
      out.push({
        kind: 'split-leak',
        severity: internal ? 'error' : 'warning',
        images: included,
        message: internal
          ? `${same} images sit in different splits (${where}): a model is scored on what it trained on, so its validation or test score is too good`
          : `${same} images sit in the labelled set and the submission set (${where}): no score here is affected (submission images are never scored), ` +
            'but a model that trained on the labelled copy has seen the answer for the submission row, so the leaderboard may flatter it',
        detail: { splits: included.map((i) => ({ image: i.rel_path, split: i.split })) },
        key: `split-leak:${shaKey(included)}`,
      });
    }
  }
  return out;
}

export type Feature = { name: string; unit: string; value: (i: ImageRecord) => number | null };
export const FEATURES: readonly Feature[] = [
  { name: 'width', unit: 'px', value: (i) => i.width },
  { name: 'height', unit: 'px', value: (i) => i.height },
  { name: 'aspect', unit: 'w/h', value: (i) => (i.width && i.height ? i.width / i.height : null) },
  { name: 'bytes', unit: 'bytes', value: (i) => i.bytes },
];

export function outlierChecks(images: readonly ImageRecord[]): DraftFinding[] {
  const usable = images.filter((i) => i.decode_status === 'ok' && i.excluded === 0);
  const flagged = new Map<ImageRecord, Array<Record<string, unknown>>>();
  for (const f of FEATURES) {
    // A PNG is several times the bytes of the same picture as a JPEG: bytes are compared within a format.
    const cohorts = new Map<string, ImageRecord[]>();
    for (const img of usable) {
      const cohort = f.name === 'bytes' ? (img.format ?? 'unknown') : 'all';
      const list = cohorts.get(cohort);
      if (list) list.push(img);
      else cohorts.set(cohort, [img]);
    }
    for (const [cohort, members] of cohorts) {
      const vals = members.map(f.value);
      // the one outlier rule (statistics.ts: why log-scale fences), the same numbers Insights shows
      const summary = sizeSummary(vals.filter((v): v is number => v !== null));
      if (!summary || summary.count < 8) continue;
      members.forEach((img, idx) => {
        const v = vals[idx];
        if (v === null || v === undefined || (v >= summary.lowerFence && v <= summary.upperFence)) return;
        const list = flagged.get(img) ?? [];
        list.push({
          feature: f.name, value: v, unit: f.unit, ...(cohort === 'all' ? {} : { among: cohort }),
          q1: summary.q1, median: summary.median, q3: summary.q3, lowerFence: summary.lowerFence, upperFence: summary.upperFence, k: OUTLIER_K,
        });
        flagged.set(img, list);
      });
    }
  }
  const out: DraftFinding[] = [];
  for (const [img, features] of flagged) {
    const text = features
      .map((f) => {
        const feature = String(f['feature']);
        const v = Number(f['value']);
        const above = v > Number(f['upperFence']);
        const limit = Number(above ? f['upperFence'] : f['lowerFence']);
        const among = typeof f['among'] === 'string' ? ` for ${valueImages('format', f['among'])}` : '';
        return `${FEATURE_WORDS[feature] ?? feature} ${featureValue(feature, v)} ${above ? 'above' : 'below'} ${featureValue(feature, limit)}${among}`;
      })
      .join(', ');
    out.push({
      kind: 'size-outlier',
      severity: 'info',
      images: [img],
      message: `${img.rel_path} is a size outlier: ${text} (${OUTLIER_RULE})`,
      detail: { features },
      key: `size-outlier:${img.sha256}`,
    });
  }
  return out;
}

/**
 * A finding's evidence in words: what the Review view and the CLI show beside the message, as label/value
 * pairs ("of them 'mask'": "59 (97 %)"). `detail` keeps the raw numbers for programs; people never see its
 * keys (`baseRate`, `hasAlpha`).
 */
import type { FindingFact, FindingKind } from '../../../shared/contract';
import { formatBytes } from '../../../shared/format';
import { FEATURE_WORDS, featureValue, pct, quoted, valueImages } from './audit-words';

type Detail = Record<string, unknown>;
type Display = (name: string) => string;

const num = (d: Detail, k: string): number | null => (typeof d[k] === 'number' && Number.isFinite(d[k]) ? d[k] : null);
const str = (d: Detail, k: string): string | null => (typeof d[k] === 'string' ? d[k] : null);
const list = (d: Detail, k: string): Detail[] => (Array.isArray(d[k]) ? d[k].filter((x): x is Detail => typeof x === 'object' && x !== null) : []);

function fact(label: string, value: string | null | undefined): FindingFact[] {
  return value === null || value === undefined || value === '' ? [] : [{ label, value }];
}

const REASON_WORDS: Record<string, string> = { cmyk: 'CMYK colour', grey: 'greyscale', alpha: 'an alpha channel (transparency)' };

function shortcutFacts(d: Detail, display: Display): FindingFact[] {
  const feature = str(d, 'feature') ?? '';
  const cls = str(d, 'class');
  const name = cls !== null ? quoted(display(cls)) : '?';
  const auc = num(d, 'auc');
  if (str(d, 'value') !== null) {
    const value = str(d, 'value') ?? '';
    const count = num(d, 'count') ?? 0;
    const share = num(d, 'share') ?? 0;
    const base = num(d, 'baseRate');
    const n = num(d, 'n');
    const target = d['target'] === null ? 'the other class' : name;
    return [
      ...fact(valueImages(feature, value), count.toLocaleString('en')),
      ...fact(`of them ${target}`, `${Math.round(share * count)} (${pct(share)})`),
      ...fact(`${target} among all labelled images`, base !== null ? pct(base) : null),
      ...fact(
        `AUC of the ${FEATURE_WORDS[feature] ?? feature} alone`,
        auc !== null && Number.isFinite(auc)
          ? `${auc.toFixed(3)}${n !== null ? ` (near 0.5 when ${valueImages(feature, value)} are few: ${count} of ${n.toLocaleString('en')} images)` : ''}`
          : null,
      ),
    ];
  }
  const medPos = num(d, 'medianClass');
  const medNeg = num(d, 'medianOther');
  const p = num(d, 'p');
  return [
    ...fact('feature', FEATURE_WORDS[feature] ?? feature),
    ...fact(`median for ${name}`, medPos !== null ? featureValue(feature, medPos) : null),
    ...fact('median for the others', medNeg !== null ? featureValue(feature, medNeg) : null),
    ...fact('AUC of this feature alone', auc !== null ? auc.toFixed(3) : null),
    ...fact('chance of that AUC without a real difference', p !== null ? `p = ${p.toExponential(1)}` : null),
  ];
}

export function findingFacts(kind: FindingKind, d: Detail, display: Display): FindingFact[] {
  switch (kind) {
    case 'unreadable':
    case 'truncated':
    case 'empty-file':
    case 'not-an-image':
      return [
        ...fact('decoder says', str(d, 'decoder')),
        ...fact('file size', num(d, 'bytes') !== null ? formatBytes(num(d, 'bytes') ?? 0) : null),
        ...fact('the bytes look like', str(d, 'magic')?.toUpperCase() ?? 'no known image format'),
      ];
    case 'extension-mismatch':
      return [...fact('extension', str(d, 'extension') !== null ? `.${str(d, 'extension')}` : null), ...fact('actual format', str(d, 'actual')?.toUpperCase())];
    case 'colour-space':
      return [
        ...fact('what', REASON_WORDS[str(d, 'reason') ?? ''] ?? str(d, 'reason')),
        ...fact('colour space', str(d, 'space')),
        ...fact('channels', num(d, 'channels')?.toString()),
        ...fact('transparency', d['hasAlpha'] === true ? 'yes' : d['hasAlpha'] === false ? 'no' : null),
      ];
    case 'missing-file':
      if (str(d, 'csv') !== null) {
        return [...fact('CSV', str(d, 'csv')), ...fact('looked for in', str(d, 'folder')), ...fact('rows', num(d, 'count')?.toLocaleString('en'))];
      }
      return fact('last seen at', str(d, 'path'));
    case 'unknown-label':
    case 'duplicate-row':
      return [...fact('CSV line', num(d, 'line')?.toString()), ...fact('image named', str(d, 'file'))];
    case 'shortcut':
      return shortcutFacts(d, display);
    case 'exact-duplicate':
    case 'near-duplicate':
      return [
        ...fact('suggested keeper (largest)', str(d, 'suggestedKeeper')),
        ...(kind === 'near-duplicate' ? fact('most differing hash bits', num(d, 'maxDistance')?.toString()) : []),
      ];
    case 'label-conflict':
      return list(d, 'labels').flatMap((l) => fact(String(l['image'] ?? '?'), typeof l['label'] === 'string' ? display(l['label']) : 'no label'));
    case 'split-leak':
      return list(d, 'splits').flatMap((l) => fact(String(l['image'] ?? '?'), l['split'] === 'unassigned' ? 'labelled, not split yet' : String(l['split'] ?? '?')));
    case 'size-outlier':
      return list(d, 'features').flatMap((f) => {
        const feature = String(f['feature'] ?? '');
        const v = (k: string) => (typeof f[k] === 'number' ? featureValue(feature, f[k]) : '?');
        const among = typeof f['among'] === 'string' ? ` among ${valueImages('format', f['among'])}` : '';
        return fact(FEATURE_WORDS[feature] ?? feature, `${v('value')} (typical ${v('q1')} to ${v('q3')}${among}; limits ${v('lowerFence')} to ${v('upperFence')})`);
      });
    case 'label-doubt':
      return [
        ...fact('given label', str(d, 'given') !== null ? display(str(d, 'given') ?? '') : null),
        ...fact('the models suggest', str(d, 'suggested') !== null ? display(str(d, 'suggested') ?? '') : null),
        ...fact('out-of-fold probability of the given label', num(d, 'probability')?.toFixed(3)),
        ...fact('rank among the doubts', num(d, 'rank')?.toString()),
      ];
    case 'unlabelled':
      return [];
  }
}

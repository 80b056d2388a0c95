/**
 * Shortcuts: metadata that predicts the label on its own, which a model can learn instead of the content.
 * The message leads with what a person can check ("59 of the 61 PNGs are 'mask' (97 % vs 49 % overall)");
 * the feature's AUC stays in the evidence, because for a rare value (61 PNGs among 1,302 images) it sits near
 * 0.5 although within those images the format all but decides the label.
 */
import type { ImageRecord } from './images';
import { FEATURES, type DraftFinding } from './audit-checks';
import { FEATURE_WORDS, featureValue, pct, quoted, valueImages } from './audit-words';
import { rocAuc } from '../stats/metrics';
import { aucPValue, quantile } from '../stats/statistics';

function median(values: readonly number[]): number | null {
  return values.length === 0 ? null : quantile([...values].sort((a, b) => a - b), 0.5);
}

/** `display` gives a class's display name ("mask" for "1"). */
export function shortcutChecks(images: readonly ImageRecord[], classes: readonly string[], display: (name: string) => string = (n) => n): DraftFinding[] {
  const rows = images.filter((i) => i.decode_status === 'ok' && i.excluded === 0 && i.label !== null && i.split !== 'submission');
  const out: DraftFinding[] = [];
  // One class against the rest; for two classes one pass says everything.
  const positives = classes.length === 2 ? [classes[1]!] : classes;
  for (const cls of positives) {
    const name = quoted(display(cls));
    // for two classes "not mask" has a name of its own
    const other = classes.length === 2 ? quoted(display(classes[0]!)) : `not ${name}`;
    const isPos = rows.map((r) => r.label === cls);
    const nPos = isPos.filter(Boolean).length;
    const nNeg = rows.length - nPos;
    if (nPos < 10 || nNeg < 10) continue;
    for (const f of FEATURES) {
      const vals = rows.map(f.value);
      const keep = vals.map((v) => v !== null);
      const scores = vals.filter((v): v is number => v !== null);
      const pos = isPos.filter((_, i) => keep[i]);
      const auc = rocAuc(pos.map(Number), scores);
      if (auc === null) continue;
      const p = aucPValue(auc, pos.filter(Boolean).length, pos.length - pos.filter(Boolean).length);
      if (Math.abs(auc - 0.5) >= 0.1 && p < 1e-3) {
        const medPos = median(scores.filter((_, i) => pos[i]));
        const medNeg = median(scores.filter((_, i) => !pos[i]));
        const words = FEATURE_WORDS[f.name] ?? f.name;
        const medians = medPos !== null && medNeg !== null ? ` (median ${featureValue(f.name, medPos)} vs ${featureValue(f.name, medNeg)})` : '';
        out.push({
          kind: 'shortcut',
          severity: 'warning',
          images: [],
          message:
            `${name} images differ from ${other} images in ${words}${medians}: the ${words} alone tells them apart with AUC ${auc.toFixed(2)}, ` +
            `so a model can learn the ${words} instead of the content`,
          detail: { feature: f.name, class: cls, auc, p, n: scores.length, medianClass: medPos, medianOther: medNeg },
          key: `shortcut:${f.name}:${cls}`,
        });
      }
    }
    // Categorical: a format (or colour space) whose images are nearly all of one class.
    const baseRate = nPos / rows.length;
    for (const [feature, valueOf] of [
      ['format', (r: ImageRecord) => r.format ?? 'unknown'],
      ['space', (r: ImageRecord) => r.space ?? 'unknown'],
    ] as const) {
      const counts = new Map<string, { n: number; pos: number; imgs: ImageRecord[] }>();
      rows.forEach((r, i) => {
        const v = valueOf(r);
        const c = counts.get(v) ?? { n: 0, pos: 0, imgs: [] };
        c.n++;
        if (isPos[i]) c.pos++;
        c.imgs.push(r);
        counts.set(v, c);
      });
      if (counts.size < 2) continue;
      const auc = rocAuc(isPos.map(Number), rows.map((r) => { const c = counts.get(valueOf(r))!; return c.pos / c.n; })) ?? Number.NaN;
      for (const [value, c] of counts) {
        if (c.n < 10 || c.n > rows.length / 2) continue;
        const rate = c.pos / c.n;
        for (const [target, share, base, label] of [[cls, rate, baseRate, name], [`not ${cls}`, 1 - rate, 1 - baseRate, other]] as const) {
          if (share >= 0.9 && share - base >= 0.25) {
            out.push({
              kind: 'shortcut',
              severity: 'warning',
              images: c.imgs,
              message:
                `${Math.round(share * c.n)} of the ${c.n} ${valueImages(feature, value)} are ${label} (${pct(share)} vs ${pct(base)} overall): ` +
                `a model can learn the ${FEATURE_WORDS[feature] ?? feature} instead of the content`,
              detail: { feature, value, class: cls, target: target === cls ? cls : null, count: c.n, share, baseRate: base, auc, n: rows.length },
              key: `shortcut:${feature}=${value}:${cls}`,
            });
          }
        }
      }
    }
  }
  return out;
}

/**
 * The report as one HTML string: tables and thumbnails written here (readable with scripts off), charts
 * drawn on open by the inlined chart.js from the inlined JSON. A strict CSP in the file itself forbids
 * every network fetch, so the report shows the same wherever it is opened.
 */
import type { CompareRow, ConfusionAt } from '../../../shared/contract-compare';
import { doubtsModelText } from '../../../shared/scored-on';
import type { CellErrors, ReportData, RunSection, ScoredImage } from './report-data';
import { REPORT_SCRIPT } from './report-script';
import { decisionText, type DoubtsSection } from './report-doubts';
import { REPORT_STYLE } from './report-style';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** JSON inside a <script> element: no '<' survives, so no '</script>' can end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const num = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const ci = (c: { low: number; high: number } | null, digits = 3): string => (c ? ` <span class="ci">[${num(c.low, digits)}, ${num(c.high, digits)}]</span>` : '');

function className(data: ReportData, name: string | null): string {
  if (name === null) return 'unlabelled';
  const c = data.classes.find((k) => k.name === name);
  return c && c.displayName !== c.name ? `${c.displayName} (${c.name})` : name;
}

function thumb(data: ReportData, id: number, caption?: string): string {
  const t = data.thumbs[String(id)];
  const title = escapeHtml(`${t?.relPath ?? `image ${id}`}${t ? ` — label ${className(data, t.label)}` : ''}${caption ? ` — ${caption}` : ''}`);
  const img = t?.dataUrl ? `<img src="${t.dataUrl}" alt="${title}" title="${title}">` : `<span class="noimg" title="${title}">?</span>`;
  return `<figure>${img}${caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : ''}</figure>`;
}

function auditSection(data: ReportData): string {
  const s = data.stats;
  const splits = [...new Set(s.byClassAndSplit.map((r) => r.split))];
  const labels = [...new Set(s.byClassAndSplit.map((r) => r.label))];
  const count = (label: string | null, split: string): number => s.byClassAndSplit.find((r) => r.label === label && r.split === split)?.count ?? 0;
  const counts =
    `<table><thead><tr><th>class</th>${splits.map((sp) => `<th>${escapeHtml(sp)}</th>`).join('')}<th>total</th></tr></thead><tbody>` +
    labels
      .map((l) => `<tr><td>${escapeHtml(className(data, l))}</td>${splits.map((sp) => `<td class="n">${count(l, sp)}</td>`).join('')}<td class="n">${splits.reduce((a, sp) => a + count(l, sp), 0)}</td></tr>`)
      .join('') +
    '</tbody></table>';
  const findings =
    data.findings.length === 0
      ? '<p>No findings: run <code>mask-studio audit</code> if the library was never audited.</p>'
      : `<table class="findings"><thead><tr><th>kind</th><th>severity</th><th>findings</th><th>open</th><th>examples</th></tr></thead><tbody>` +
        data.findings
          .map(
            (f) =>
              `<tr><td>${escapeHtml(f.kind)}</td><td class="sev-${f.severity}">${f.severity}</td><td class="n">${f.count}</td><td class="n">${f.open}</td><td>` +
              f.examples
                .map((e) => `<div class="example"><p>${escapeHtml(e.message)}</p><div class="thumbs">${e.imageIds.map((id) => thumb(data, id)).join('')}${e.more > 0 ? `<span class="more">+${e.more}</span>` : ''}</div></div>`)
                .join('') +
              '</td></tr>',
          )
          .join('') +
        '</tbody></table>';
  const formats = s.formats.map((f) => `${escapeHtml(f.format)} ${f.count}`).join(', ');
  return `<section id="audit"><h2>Dataset audit</h2>
<p>${s.images} images: ${s.included} included, ${s.excluded} excluded, ${s.readable} readable. Formats: ${formats || '—'}.
${s.width && s.height ? `Median size ${num(s.width.median, 0)}×${num(s.height.median, 0)} px.` : ''}</p>
<div class="row"><div>${counts}</div><div class="chart small"><canvas id="chart-classes"></canvas></div></div>
<h3>Findings by kind</h3>${findings}</section>`;
}

/** Where the doubts' probabilities came from, in one sentence. */
function doubtsSource(d: DoubtsSection): string {
  const i = d.info;
  const from = `${escapeHtml(i.model)} (${escapeHtml(doubtsModelText(i))}${i.runId ? `, run ${escapeHtml(i.runId)}` : ''}${i.faces ? ', faces scored too' : ''})`;
  const cal = i.calibration ? `; calibrated with ${i.calibration.trials} trials of planted flips (recall ${num(i.calibration.recall, 2)}, precision ${num(i.calibration.precision, 2)})` : '';
  return `${d.total} doubts among ${i.images} labelled images, from ${from}, out-of-fold AUC ${num(i.oofAuc)}${cal}.`;
}

function doubtsSection(data: ReportData): string {
  const d = data.doubts;
  if (d === null) return '';
  const figures = d.top
    .map((x) => {
      const caption = `#${x.rank} ${className(data, x.given)} → ${className(data, x.suggested)}, p(given) ${num(x.probability)}` +
        `${x.expectedPrecision !== null ? `, expected precision ${num(x.expectedPrecision, 2)}` : ''} · ${decisionText(x.status)}`;
      const title = escapeHtml(`${x.relPath} — ${caption}`);
      const img = x.thumb?.dataUrl ? `<img src="${x.thumb.dataUrl}" alt="${title}" title="${title}">` : `<span class="noimg" title="${title}">?</span>`;
      return `<figure class="doubt" data-status="${x.status ?? 'none'}">${img}<figcaption>${escapeHtml(caption)}<br><small>${escapeHtml(x.relPath)}</small></figcaption></figure>`;
    })
    .join('');
  return `<section id="doubts"><h2>Label doubts</h2><p>${doubtsSource(d)} ${d.total > d.top.length ? `The top ${d.top.length}` : 'All of them'}, most doubted first; each says what Review decided.</p>
<div class="thumbs doubts">${figures}</div></section>`;
}

function compareTable(rows: readonly CompareRow[]): string {
  const head = ['', 'run', 'model', 'AUC [95 % CI]', 'log loss [95 % CI]', 'accuracy', 'precision', 'recall', 'F1', 'epochs (best)', 'input', 'weights', 'parameters', 'train s', 'images/s', 'backend'];
  const body = rows
    .map(
      (r) =>
        `<tr${r.best ? ' class="best"' : ''}><td>${r.best ? '★' : ''}</td><td><a href="#run-${escapeHtml(r.id)}">${escapeHtml(r.id)}</a>${r.name ? `<br><small>${escapeHtml(r.name)}</small>` : ''}</td>` +
        `<td>${escapeHtml(r.model)}${r.members.length > 0 ? ` <small>(${r.members.length} runs)</small>` : ''}</td>` +
        `<td class="n">${num(r.auc, 4)}${ci(r.aucCi)}</td><td class="n">${num(r.logLoss, 4)}${ci(r.logLossCi)}</td>` +
        `<td class="n">${num(r.accuracy)}</td><td class="n">${num(r.precision)}</td><td class="n">${num(r.recall)}</td><td class="n">${num(r.f1)}</td>` +
        `<td class="n">${r.kind === 'ensemble' ? '—' : `${r.epochs}${r.bestEpoch !== null ? ` (${r.bestEpoch})` : ''}`}</td><td class="n">${r.inputSize ?? 'mixed'}</td><td>${escapeHtml(r.weightsSource)}</td>` +
        `<td class="n">${r.params ?? '—'}</td><td class="n">${num(r.seconds, 1)}</td><td class="n">${num(r.imagesPerSecond, 1)}${r.throughputBasis === 'features' ? ' <small title="cached base features through the head; the base ran once per image">features</small>' : ''}</td><td>${escapeHtml(r.backend)}${r.device ? ` <small>${escapeHtml(r.device)}</small>` : ''}</td></tr>`,
    )
    .join('');
  return `<div class="scroll"><table class="compare"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function comparisonSection(data: ReportData): string {
  const c = data.comparison;
  if (c.rows.length === 0) {
    return `<section id="compare"><h2>Models</h2><p>No run has predictions on the ${c.split} split yet: train one with <code>mask-studio train</code>.</p>${skipped(data)}</section>`;
  }
  const d = c.delong;
  const delong = d
    ? `<p>DeLong's test, ${escapeHtml(d.a)} vs ${escapeHtml(d.b)}: AUC ${num(d.aucA, 4)} vs ${num(d.aucB, 4)}, difference ${num(d.difference, 4)} (SE ${num(d.se, 4)}), z = ${num(d.z, 2)}, p = ${num(d.p, 4)}${d.p >= 0.05 ? ' — not a significant difference at 5 %' : ''}.</p>`
    : '';
  const seeds = c.seedGroups
    .map((g) => `<li>${escapeHtml(g.model)} (${escapeHtml(g.settings)}), ${g.runs.length} seeds: AUC ${g.auc ? `${num(g.auc.mean, 4)} ± ${num(g.auc.sd, 4)}` : '—'}, log loss ${num(g.logLoss.mean, 4)} ± ${num(g.logLoss.sd, 4)}</li>`)
    .join('');
  return `<section id="compare"><h2>Models on the ${c.split} split</h2>${compareTable(c.rows)}${delong}${seeds ? `<ul>${seeds}</ul>` : ''}${skipped(data)}
<div class="charts"><div class="chart"><canvas id="chart-roc"></canvas></div><div class="chart"><canvas id="chart-pr"></canvas></div><div class="chart"><canvas id="chart-calibration"></canvas></div></div></section>`;
}

function skipped(data: ReportData): string {
  const s = data.comparison.skipped;
  return s.length === 0 ? '' : `<details><summary>${s.length} run(s) left out</summary><ul>${s.map((k) => `<li>${escapeHtml(k.id)}: ${escapeHtml(k.reason)}</li>`).join('')}</ul></details>`;
}

function confusion(data: ReportData, c: ConfusionAt, errors: CellErrors, title: string, classes: readonly string[]): string {
  const [neg, pos] = [classes[0] ?? '0', classes[1] ?? '1'];
  const cell = (n: { count: number }, kind: string): string => `<td class="n cm-${kind}">${n.count}</td>`;
  const pics = (list: readonly ScoredImage[], what: string): string =>
    list.length === 0 ? '' : `<p>${what} (most confident first):</p><div class="thumbs">${list.map((x) => thumb(data, x.id, `p = ${num(x.probability)}`)).join('')}</div>`;
  return `<div class="cm"><h4>${title}</h4><table><thead><tr><th></th><th>predicted ${escapeHtml(className(data, neg))}</th><th>predicted ${escapeHtml(className(data, pos))}</th></tr></thead><tbody>
<tr><th>actual ${escapeHtml(className(data, neg))}</th>${cell(c.tn, 'ok')}${cell(c.fp, 'bad')}</tr>
<tr><th>actual ${escapeHtml(className(data, pos))}</th>${cell(c.fn, 'bad')}${cell(c.tp, 'ok')}</tr></tbody></table>
${pics(errors.fp, `False positives (${c.fp.count})`)}${pics(errors.fn, `False negatives (${c.fn.count})`)}</div>`;
}

/**
 * What a run's images are, in words: a K-fold run (or an ensemble of one) is scored out of fold on every
 * labelled train+val image, not on the validation split ("1107 images on val" was wrong).
 */
export function scoredImages(data: ReportData, ev: RunSection['evaluation']): string {
  const rows = data.comparison.rows;
  const folded = ev.row.folds !== null || ev.row.members.some((id) => (rows.find((m) => m.id === id)?.folds ?? null) !== null);
  const n = ev.count.toLocaleString('en');
  return folded && ev.split === 'val' ? `${n} train+val images, scored out of fold` : `${n} images on ${ev.split}`;
}

function runBlock(data: ReportData, r: RunSection, index: number): string {
  const ev = r.evaluation;
  return `<section class="run" id="run-${escapeHtml(ev.runId)}"><h3>${escapeHtml(ev.row.model)} — ${escapeHtml(ev.runId)}</h3>
<p>${scoredImages(data, ev)} (${ev.positives.toLocaleString('en')} ${escapeHtml(className(data, ev.classes[1] ?? '1'))}); AUC ${num(ev.row.auc, 4)}, log loss ${num(ev.row.logLoss, 4)}.</p>
<div class="row">${confusion(data, ev.atHalf, r.errors.atHalf, 'Threshold 0.5', ev.classes)}${confusion(data, ev.atYouden, r.errors.atYouden, `Youden threshold ${num(ev.atYouden.threshold)} (J = ${num(ev.atYouden.j)})`, ev.classes)}</div>
${r.epochs.length > 0 ? `<div class="chart wide"><canvas id="chart-epochs-${index}"></canvas></div>` : '<p>No epochs recorded (an ensemble, or a run that stored none).</p>'}</section>`;
}

/** The whole file. `chartJs` is chart.js's UMD build, inlined as it is. */
export function renderReport(data: ReportData, chartJs: string): string {
  // the thumbnails are in the HTML already; the JSON keeps their names and labels, not their bytes again
  const json = {
    ...data,
    thumbs: Object.fromEntries(Object.entries(data.thumbs).map(([id, t]) => [id, { relPath: t.relPath, label: t.label }])),
    doubts: data.doubts === null ? null : { ...data.doubts, top: data.doubts.top.map(({ thumb: _thumb, ...d }) => d) },
  };
  const csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mask Studio report — ${escapeHtml(data.library)}</title>
<style>${REPORT_STYLE}</style></head>
<body><header><h1>Mask Studio report</h1><p>Library ${escapeHtml(data.library)} · ${escapeHtml(data.generatedAt)} · evaluated on the ${data.split} split</p></header>
${auditSection(data)}
${doubtsSection(data)}
${comparisonSection(data)}
${data.runs.length > 0 ? `<section id="runs"><h2>Each run</h2>${data.runs.map((r, i) => runBlock(data, r, i)).join('\n')}</section>` : ''}
<script type="application/json" id="report-data">${scriptJson(json)}</script>
<script>${chartJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}

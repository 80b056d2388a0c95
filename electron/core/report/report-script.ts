/**
 * The script the report runs when opened: it reads the inlined JSON and draws the charts with the
 * inlined chart.js. Plain ES2017 for any browser; no network, no modules. It sets
 * `document.body.dataset.charts` to the number of charts drawn (the tests read it).
 */
export const REPORT_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  if (typeof Chart === 'undefined') {
    document.body.insertAdjacentHTML('afterbegin', '<p class="warn">chart.js did not load: the charts are missing.</p>');
    return;
  }
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 11;
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  var drawn = 0;
  function colour(i) { return palette[i % palette.length]; }
  function fmt(v, d) { return v === null || v === undefined || !isFinite(v) ? '—' : v.toFixed(d); }
  function runLabel(r) { var row = r.evaluation.row; return row.model + ' ' + row.id.slice(-4) + ' (AUC ' + fmt(row.auc, 3) + ')'; }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    // what was drawn, for a reader's tools and the tests
    canvas.dataset.series = config.data.datasets.map(function (d) { return d.label; }).join('|');
    new Chart(canvas, config);
    drawn++;
  }
  function axis(title, min, max) { return { type: 'linear', min: min, max: max, title: { display: true, text: title } }; }
  function curveChart(id, title, points, xTitle, yTitle, diagonal) {
    var sets = data.runs.map(function (r, i) {
      return { label: runLabel(r), data: points(r), showLine: true, pointRadius: 0, borderWidth: 1.5, borderColor: colour(i), backgroundColor: colour(i) };
    });
    if (diagonal) sets.push({ label: diagonal, data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true, pointRadius: 0, borderDash: [4, 4], borderColor: '#999', borderWidth: 1 });
    draw(id, { type: 'scatter', data: { datasets: sets }, options: { responsive: true, maintainAspectRatio: false, plugins: { title: { display: true, text: title } }, scales: { x: axis(xTitle, 0, 1), y: axis(yTitle, 0, 1) } } });
  }

  // class counts per split
  var stats = data.stats;
  var splits = [], labels = [];
  stats.byClassAndSplit.forEach(function (r) {
    if (splits.indexOf(r.split) < 0) splits.push(r.split);
    if (labels.indexOf(r.label) < 0) labels.push(r.label);
  });
  function className(name) {
    if (name === null) return 'unlabelled';
    for (var i = 0; i < data.classes.length; i++) if (data.classes[i].name === name) return data.classes[i].displayName;
    return name;
  }
  draw('chart-classes', {
    type: 'bar',
    data: {
      labels: splits,
      datasets: labels.map(function (l, i) {
        return { label: className(l), backgroundColor: colour(i), data: splits.map(function (s) {
          var hit = stats.byClassAndSplit.filter(function (r) { return r.label === l && r.split === s; })[0];
          return hit ? hit.count : 0;
        }) };
      }),
    },
    options: { responsive: true, maintainAspectRatio: false, plugins: { title: { display: true, text: 'Images per class and split' } }, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });

  if (data.runs.length > 0) {
    curveChart('chart-roc', 'ROC curves', function (r) { return r.evaluation.roc.map(function (p) { return { x: p.fpr, y: p.tpr }; }); }, 'false positive rate', 'true positive rate', 'chance');
    curveChart('chart-pr', 'Precision–recall curves', function (r) { return r.evaluation.pr.map(function (p) { return { x: p.recall, y: p.precision }; }); }, 'recall', 'precision', null);
    curveChart('chart-calibration', 'Calibration (10 bins)', function (r) {
      return r.evaluation.calibration.filter(function (b) { return b.meanPredicted !== null && b.observed !== null; }).map(function (b) { return { x: b.meanPredicted, y: b.observed }; });
    }, 'mean predicted probability', 'observed rate', 'perfect calibration');
  }

  data.runs.forEach(function (r, i) {
    if (r.epochs.length === 0) return;
    // a K-fold run: one line per fold and metric, each fold's epochs from 1 (shaded from dark to light)
    var groups = [];
    r.epochs.forEach(function (e) {
      var key = e.fold === null || e.fold === undefined ? 0 : e.fold;
      var g = groups.filter(function (x) { return x.fold === key; })[0];
      if (!g) { g = { fold: key, epochs: [] }; groups.push(g); }
      g.epochs.push(e);
    });
    var longest = Math.max.apply(null, groups.map(function (g) { return g.epochs.length; }));
    var labels = groups.length > 1 ? Array.from({ length: longest }, function (_, k) { return k + 1; }) : r.epochs.map(function (e) { return e.epoch; });
    var datasets = [];
    groups.forEach(function (g, gi) {
      var alpha = groups.length > 1 ? 1 - 0.6 * gi / Math.max(1, groups.length - 1) : 1;
      var prefix = groups.length > 1 ? 'fold ' + g.fold + ' · ' : '';
      function series(key, label, rgb, yAxis, dash) {
        var c = 'rgba(' + rgb + ',' + alpha.toFixed(2) + ')';
        return { label: prefix + label, data: g.epochs.map(function (e) { return e[key]; }), borderColor: c, backgroundColor: c, yAxisID: yAxis, borderDash: dash, pointRadius: 2, borderWidth: 1.5 };
      }
      datasets.push(series('loss', 'train loss', '31,119,180', 'y', []), series('valLoss', 'val loss', '31,119,180', 'y', [4, 3]),
        series('auc', 'train AUC', '214,39,40', 'y1', []), series('valAuc', 'val AUC', '214,39,40', 'y1', [4, 3]));
    });
    draw('chart-epochs-' + i, {
      type: 'line',
      data: { labels: labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, plugins: { title: { display: true, text: 'Learning curves: ' + r.evaluation.runId + (groups.length > 1 ? ' (' + groups.length + ' folds)' : '') } },
        scales: { x: { title: { display: true, text: groups.length > 1 ? 'epoch within the fold' : 'epoch' } }, y: { position: 'left', title: { display: true, text: 'loss' }, beginAtZero: true },
          y1: { position: 'right', min: 0, max: 1, title: { display: true, text: 'AUC' }, grid: { drawOnChartArea: false } } } },
    });
  });
  document.body.dataset.charts = String(drawn);
})();
`;

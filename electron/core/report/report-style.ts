/** The report's stylesheet, inlined in the file. */
export const REPORT_STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto; max-width: 1280px; padding: 0 24px 48px; }
header { border-bottom: 2px solid #ddd; margin-bottom: 16px; }
h1 { font-size: 24px; margin: 20px 0 4px; } h2 { font-size: 20px; margin-top: 32px; } h3 { font-size: 16px; } h4 { margin: 8px 0; }
header p, small, .ci { color: #666; }
table { border-collapse: collapse; margin: 8px 0; }
.scroll { overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: #fff8e1; }
.ci { font-size: 12px; white-space: nowrap; }
.sev-error { color: #b71c1c; font-weight: 600; } .sev-warning { color: #e65100; } .sev-info { color: #555; }
.cm-ok { background: #e8f5e9; } .cm-bad { background: #ffebee; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.cm { flex: 1 1 480px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { position: relative; height: 320px; flex: 1 1 380px; }
.chart.small { height: 220px; flex: 0 1 360px; } .chart.wide { height: 260px; max-width: 900px; }
.thumbs { display: flex; flex-wrap: wrap; gap: 4px; align-items: flex-end; }
figure { margin: 0; text-align: center; }
figure img, .noimg { display: block; max-width: 64px; max-height: 64px; border: 1px solid #ccc; }
.noimg { width: 64px; height: 64px; line-height: 64px; background: #eee; color: #999; }
figcaption { font-size: 10px; color: #555; }
.doubts { gap: 12px; align-items: flex-start; }
figure.doubt { width: 200px; } figure.doubt img { max-width: 200px; max-height: 200px; margin: 0 auto; }
figure.doubt figcaption { font-size: 12px; } figure.doubt[data-status="resolved"] img { border: 2px solid #2e7d32; }
.example p { margin: 2px 0; font-size: 12px; } .example { margin-bottom: 6px; }
.more { font-size: 12px; color: #666; }
.warn { background: #fff3e0; padding: 8px; }
section.run { border-top: 1px solid #eee; }
`;

/**
 * Files a person keeps: a run's Zindi submission, the HTML report and a run's model (a zip). In the desktop app main shows a save
 * dialog (`shell.save` through the bridge); in a browser the server's GET route is fetched first, so an error
 * becomes a message instead of a saved error page, and the bytes are handed to the browser's download.
 */
import { SHELL_SAVE, type SaveRequest, type SaveResult } from '../../../../electron/preload/bridge';
import { AppError } from '../../../../shared/errors';

export type SaveOutcome = { saved: true; where: string } | { saved: false };

function isSaveResult(v: unknown): v is SaveResult {
  return typeof v === 'object' && v !== null && 'path' in v && (typeof v.path === 'string' || v.path === null);
}

function routeOf(request: SaveRequest): { url: string; name: string } {
  if (request.kind === 'submission') {
    return { url: `api/runs/${encodeURIComponent(request.runId)}/submission.csv`, name: `submission-${request.runId}.csv` };
  }
  if (request.kind === 'model') {
    return { url: `api/runs/${encodeURIComponent(request.runId)}/model.zip?format=${request.format}`, name: `model-${request.runId}-${request.format}.zip` };
  }
  return { url: `api/report.html?split=${request.split}`, name: `mask-studio-report-${request.split}.html` };
}

function nameFrom(disposition: string | null, fallback: string): string {
  return disposition?.match(/filename="([^"]+)"/)?.[1] ?? fallback;
}

export async function save(request: SaveRequest): Promise<SaveOutcome> {
  const bridge = window.bridge;
  if (bridge) {
    const reply = await bridge.call(SHELL_SAVE, request);
    if (!reply.ok) throw new AppError(reply.error.code, reply.error.message);
    if (!isSaveResult(reply.value)) throw new AppError('INTERNAL', 'the desktop shell answered the save with something unexpected');
    return reply.value.path === null ? { saved: false } : { saved: true, where: reply.value.path };
  }
  const { url, name } = routeOf(request);
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) {
    const text = (await res.text()).slice(0, 400);
    throw new AppError(res.status === 409 ? 'CONFLICT' : res.status === 404 ? 'NOT_FOUND' : 'INTERNAL', text || `HTTP ${res.status}`);
  }
  const file = nameFrom(res.headers.get('Content-Disposition'), name);
  const href = URL.createObjectURL(await res.blob());
  try {
    const a = document.createElement('a');
    a.href = href;
    a.download = file;
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // The click has handed the bytes to the browser's download; a moment later the URL can go.
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  }
  return { saved: true, where: file };
}

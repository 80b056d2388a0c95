/**
 * Files a person keeps: a run's Zindi submission, the HTML report and an exported model. The page never names
 * where they go. In the desktop app main shows a save dialog (`shell.save` through the bridge); in a browser
 * the server writes into its library's exports/ and its GET route is fetched first, so an error becomes a
 * message instead of a saved error page, and the bytes are handed to the browser's download.
 * `choose` is the desktop's open dialog for an import path (a browser types paths below serve's --data-root).
 */
import {
  SHELL_CHOOSE,
  SHELL_SAVE,
  type ChooseRequest,
  type SaveRequest,
  type SaveResult,
} from '../../../../electron/preload/bridge';
import { AppError, type ErrorCode } from '../../../../shared/errors';

export type SaveOutcome = { saved: true; where: string } | { saved: false };

function isSaveResult(v: unknown): v is SaveResult {
  return typeof v === 'object' && v !== null && 'path' in v && (typeof v.path === 'string' || v.path === null);
}

function routeOf(request: SaveRequest): { url: string; name: string } {
  switch (request.kind) {
    case 'submission': {
      // rows without a probability: filled with one value, or left out (the server refuses otherwise, saying why)
      const params = new URLSearchParams();
      if (request.fill !== undefined) params.set('fill', String(request.fill));
      else if (request.partial === true) params.set('partial', '1');
      if (request.tta !== undefined) params.set('tta', request.tta);
      const query = params.size > 0 ? `?${params.toString()}` : '';
      return { url: `api/runs/${encodeURIComponent(request.runId)}/submission.csv${query}`, name: `submission-${request.runId}.csv` };
    }
    case 'report':
      return { url: `api/report.html?split=${request.split}`, name: `mask-studio-report-${request.split}.html` };
    case 'model':
      return { url: `api/runs/${encodeURIComponent(request.runId)}/model.tar?format=${request.format}`, name: `${request.runId}-${request.format}.tar` };
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 409) return 'CONFLICT';
  if (status === 404) return 'NOT_FOUND';
  if (status === 403) return 'FORBIDDEN';
  if (status === 400) return 'BAD_INPUT';
  return 'INTERNAL';
}

/** Whether this page can ask for an open dialog (the desktop app) rather than have paths typed. */
export function canChoose(): boolean {
  return window.bridge !== undefined;
}

/** The desktop's open dialog for one import path; null when cancelled or outside the desktop app. */
export async function choose(kind: ChooseRequest['kind']): Promise<string | null> {
  const bridge = window.bridge;
  if (!bridge) return null;
  const reply = await bridge.call(SHELL_CHOOSE, { kind } satisfies ChooseRequest);
  if (!reply.ok) throw new AppError(reply.error.code, reply.error.message);
  const v = reply.value;
  return typeof v === 'object' && v !== null && 'path' in v && typeof v.path === 'string' ? v.path : null;
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
    throw new AppError(codeFor(res.status), text || `HTTP ${res.status}`);
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

/**
 * What crosses between the page and whatever runs core (Electron's main process or `mask-studio serve`).
 * Type-only: the preload, the main process, the server and the renderer all name the same shapes.
 */
import type { ErrorPayload } from '../../shared/errors';
import type { ExportFormat, TtaMode } from '../../shared/names';

/** One reply shape for IPC and HTTP: errors keep their code because they are data, not thrown objects. */
export type CallReply = { ok: true; value: unknown } | { ok: false; error: ErrorPayload };

/** A contract event, or a menu command from the desktop shell (`app.menu`). */
export interface BridgeEvent {
  name: string;
  payload: unknown;
}

/** What the preload exposes as `window.bridge`, and nothing else. */
export interface Bridge {
  call(method: string, input: unknown): Promise<CallReply>;
  /** Returns the function that stops listening. */
  onEvent(handler: (event: BridgeEvent) => void): () => void;
}

/**
 * The calls the desktop shell answers itself instead of core: a save dialog, then the file written where the
 * person chose (the page never names that path); an open dialog whose choice main remembers as a folder
 * the page may then import from (or score runs on). They travel through `call` like contract methods, so the
 * page's surface stays `call` + `onEvent`; `serve` has GET downloads and `--data-root` instead.
 */
export const SHELL_SAVE = 'shell.save';
/**
 * A submission's `fill` / `partial`: what to do with sample rows the run has no probability for; `tta`: the
 * views its probabilities average, when not the run's own (contract-compare.ts's SubmissionOptions).
 */
export type SaveRequest =
  | { kind: 'submission'; runId: string; fill?: number; partial?: boolean; tta?: TtaMode }
  | { kind: 'report'; split: 'val' | 'test' }
  | { kind: 'model'; runId: string; format: ExportFormat };
/** `path: null` when the person cancelled the dialog. */
export interface SaveResult {
  path: string | null;
}

export const SHELL_CHOOSE = 'shell.choose';
/** evaluate-dir: the labelled folder (one subfolder per class) the Compare view scores runs on. */
export const CHOOSE_KINDS = ['import-dir', 'labels', 'test-dir', 'sample-submission', 'evaluate-dir'] as const;
export type ChooseRequest = { kind: (typeof CHOOSE_KINDS)[number] };
/** `path: null` when the person cancelled the dialog. */
export interface ChooseResult {
  path: string | null;
}

export const CALL_CHANNEL = 'studio:call';
export const EVENT_CHANNEL = 'studio:event';

/**
 * What crosses between the page and whatever runs core (Electron's main process or `mask-studio serve`).
 * Type-only: the preload, the main process, the server and the renderer all name the same shapes.
 */
import type { ErrorPayload } from '../../shared/errors';

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
 * The one call the desktop shell answers itself instead of core: a save dialog, then the file written where
 * the person chose. It travels through `call` like a contract method, so the page's surface stays
 * `call` + `onEvent`; `serve` has GET routes for the same files instead.
 */
export const SHELL_SAVE = 'shell.save';
export type SaveRequest =
  | { kind: 'submission'; runId: string }
  | { kind: 'report'; split: 'val' | 'test' }
  | { kind: 'model'; runId: string; format: 'onnx' | 'tfjs' };
/** `path: null` when the person cancelled the dialog. */
export interface SaveResult {
  path: string | null;
}

export const CALL_CHANNEL = 'studio:call';
export const EVENT_CHANNEL = 'studio:event';

/**
 * The few browser shapes the tests read inside `page.evaluate` (the node tsconfig has no DOM lib, on purpose).
 * Types only: functions passed to evaluate run in the page and cannot use anything imported at run time.
 */
import type { Bridge } from '../../electron/preload/bridge';

export interface ImgLike {
  complete: boolean;
  naturalWidth: number;
}

export interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

export interface PageGlobals {
  document: { querySelectorAll(selector: string): ArrayLike<ImgLike> };
  bridge?: Bridge;
  require?: unknown;
  process?: unknown;
}

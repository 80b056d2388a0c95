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

/** An element as the checks of focus rings and stacking read it. */
export interface ElementLike {
  matches(selector: string): boolean;
  closest(selector: string): ElementLike | null;
  classList: { contains(name: string): boolean };
}

export interface PageGlobals {
  document: {
    querySelectorAll(selector: string): ArrayLike<ImgLike>;
    elementFromPoint(x: number, y: number): ElementLike | null;
  };
  getComputedStyle(el: ElementLike): { outlineStyle: string };
  bridge?: Bridge;
  require?: unknown;
  process?: unknown;
}

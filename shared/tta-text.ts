/**
 * Test-time augmentation in words, once: the CLI, Train's menu, Compare's rows, the Grad-CAM caption and the
 * label doubts' evidence name a mode and its views the same way (the modes themselves: TTA_MODES in names.ts).
 */
import type { TtaMode } from './names';

/** The views a mode averages each probability over: 'the image and its mirror'. */
export function ttaViewsText(mode: TtaMode): string {
  switch (mode) {
    case 'none':
      return 'the image alone';
    case 'flip':
      return 'the image and its mirror';
    case 'flip-crops':
      return 'the image, its mirror and their centre crops';
  }
}

/** A mode and its views, for a menu of modes: 'flip: the image and its mirror'. */
export function ttaOptionText(mode: TtaMode): string {
  return `${mode}: ${ttaViewsText(mode)}`;
}

/** A run's or row's mode in a word or two: 'no TTA', 'TTA flip'; null (rows that differ, an ensemble's members) 'TTA mixed'. */
export function ttaModeText(mode: TtaMode | null): string {
  if (mode === null) return 'TTA mixed';
  return mode === 'none' ? 'no TTA' : `TTA ${mode}`;
}

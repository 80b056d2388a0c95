/**
 * The two palettes that carry meaning, defined once: a class's colour (its position in the library's class
 * list) and a split's. They share no hue family, so a colour never means a class in one chart and a split in
 * another (green was "mask" in Insights' scatter and "submission" in its balance chart). Classes take warm
 * and vivid hues; splits cool ones (blue, cyan, indigo, a pale slate), with unassigned grey.
 */
import type { Split } from '../../../shared/contract';

export const CLASS_COLOURS = ['#f08c4a', '#3ecf8e', '#b38cff', '#f06fa8', '#e8d44d', '#b0895e'] as const;
/** An image without a label (drawn dashed in the grid; grey in charts). */
export const UNLABELLED_COLOUR = '#8b919c';
/** Bars that count something neither a class nor a split (formats): no hue, so no meaning is implied. */
export const NEUTRAL_COLOUR = '#c3c8d1';

/**
 * Cool hues only (cyan to indigo, and greys), each split a different hue or lightness: a ramp of one blue made
 * test and submission hard to tell apart in a stacked bar.
 */
export const SPLIT_COLOURS: Readonly<Record<Split, string>> = {
  unassigned: '#4b5563',
  train: '#2f6fde',
  val: '#22b8cf',
  test: '#a5b4fc',
  submission: '#e2e8f0',
};

/** The colour of the class at `position` in the library's class list; null (no class) is unlabelled's. */
export function classColour(position: number | null): string {
  if (position === null || position < 0) return UNLABELLED_COLOUR;
  return CLASS_COLOURS[position % CLASS_COLOURS.length] ?? UNLABELLED_COLOUR;
}

export function splitColour(split: Split): string {
  return SPLIT_COLOURS[split];
}

/** The Library view's filter as the page holds it, and as the contract's images.list takes it. */
import type { FindingKind, ImageFilter, Split } from '../../../shared/contract';

export interface LibraryFilter {
  /** 'any', '' for unlabelled, or a class name */
  label: string;
  split: Split | 'any';
  excluded: 'any' | 'included' | 'excluded';
  /** 'any', 'with', 'without', or one finding kind */
  finding: 'any' | 'with' | 'without' | FindingKind;
  search: string;
}

export const DEFAULT_FILTER: LibraryFilter = { label: 'any', split: 'any', excluded: 'any', finding: 'any', search: '' };

export function toImageFilter(f: LibraryFilter): ImageFilter {
  const out: ImageFilter = {};
  if (f.label !== 'any') out.label = f.label === '' ? null : f.label;
  if (f.split !== 'any') out.split = f.split;
  if (f.excluded !== 'any') out.excluded = f.excluded === 'excluded';
  if (f.finding === 'with' || f.finding === 'without') out.hasFinding = f.finding === 'with';
  else if (f.finding !== 'any') out.findingKind = f.finding;
  if (f.search.trim() !== '') out.search = f.search.trim();
  return out;
}

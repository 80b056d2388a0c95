/**
 * Display names a new library gives its classes. Mask Studio's first task is masks, so a binary 0/1 label set
 * reads as "no mask" / "mask"; every other class shows as written until a person renames it.
 */
export function defaultDisplayName(name: string, allNames: readonly string[]): string {
  const binary = allNames.length === 2 && allNames.includes('0') && allNames.includes('1');
  if (binary) return name === '1' ? 'mask' : 'no mask';
  return name.replace(/[_-]+/g, ' ');
}

/** Keyboard keys that label: the digits by position (0, 1, … 9). */
export function defaultHotkey(position: number): string | null {
  return position < 10 ? String(position) : null;
}

/**
 * What a run's config says of its face scoring (`train --faces`, ml/train/run-faces.ts). Pure, so predict,
 * compare and the trainer read it without importing each other.
 */

/** What `facesScored` records on the run once its rows were scored with their faces. */
export interface RunFaces {
  /** Rows scored again (val, test, submission). */
  rows: number;
  /** Of them, images with a face that counts, and the faces. */
  images: number;
  faces: number;
  /** Images searched for faces now (the others' detections were cached). */
  detected: number;
  seconds: number;
}

/** The run's face scoring, or null when its rows are the whole images' alone. */
export function recordedFaces(config: Record<string, unknown>): RunFaces | null {
  const f = config['facesScored'];
  if (typeof f !== 'object' || f === null) return null;
  const r = f as Record<string, unknown>;
  const n = (k: string): number => (typeof r[k] === 'number' ? r[k] : 0);
  return { rows: n('rows'), images: n('images'), faces: n('faces'), detected: n('detected'), seconds: n('seconds') };
}

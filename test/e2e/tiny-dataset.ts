/**
 * A small Zindi-layout dataset made with sharp, for the browser tests and the UI bench when the shared
 * synthetic generator is not there: images/ + labels.csv (image,target), with planted defects the views must
 * show: one exact duplicate pair, one truncated JPEG, one PNG, and one far-out size.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { Random } from '../fixtures/random';

export interface TinyDataset {
  dir: string;
  imagesDir: string;
  labelsCsv: string;
  files: Array<{ name: string; target: string }>;
  /** The exact duplicate pair (the second is a byte copy of the first). */
  duplicate: [string, string];
  truncated: string;
}

async function picture(rng: Random, width: number, height: number, masked: boolean): Promise<Sharp> {
  const bg = [rng.int(40, 200), rng.int(40, 200), rng.int(40, 200)];
  const skin = [rng.int(150, 230), rng.int(110, 180), rng.int(90, 150)];
  const cx = Math.round(width * rng.range(0.35, 0.65));
  const cy = Math.round(height * rng.range(0.4, 0.6));
  const r = Math.round(Math.min(width, height) * rng.range(0.22, 0.32));
  const mask = masked
    ? `<rect x="${cx - r}" y="${cy}" width="${2 * r}" height="${Math.round(r * 0.8)}" rx="${Math.round(r / 3)}" fill="rgb(${rng.int(150, 255)},${rng.int(150, 255)},255)"/>`
    : `<ellipse cx="${cx}" cy="${cy + Math.round(r * 0.45)}" rx="${Math.round(r * 0.4)}" ry="${Math.round(r * 0.12)}" fill="rgb(140,40,50)"/>`;
  // Random blocks behind the face: without them every picture hashes alike and the audit calls them duplicates.
  const blocks = Array.from({ length: 8 }, () => {
    const w = rng.int(8, Math.max(9, Math.round(width / 2)));
    const h = rng.int(8, Math.max(9, Math.round(height / 2)));
    return `<rect x="${rng.int(0, width - 8)}" y="${rng.int(0, height - 8)}" width="${w}" height="${h}" fill="rgb(${rng.int(0, 255)},${rng.int(0, 255)},${rng.int(0, 255)})"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="rgb(${bg.join(',')})"/>${blocks}
    <circle cx="${cx}" cy="${cy}" r="${r}" fill="rgb(${skin.join(',')})"/>
    <circle cx="${cx - Math.round(r / 3)}" cy="${cy - Math.round(r / 4)}" r="${Math.max(2, Math.round(r / 9))}" fill="#222"/>
    <circle cx="${cx + Math.round(r / 3)}" cy="${cy - Math.round(r / 4)}" r="${Math.max(2, Math.round(r / 9))}" fill="#222"/>
    ${mask}</svg>`;
  return sharp(Buffer.from(svg)).removeAlpha();
}

/** `count` images (at least 8), half of them "1" (mask). Deterministic for one seed. */
export async function makeTinyDataset(dir: string, count = 24, seed = 7): Promise<TinyDataset> {
  const rng = new Random(seed);
  const imagesDir = join(dir, 'images');
  mkdirSync(imagesDir, { recursive: true });
  const files: Array<{ name: string; target: string }> = [];
  const batch: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const masked = i % 2 === 1;
    const png = i === 3;
    const outlier = i === 5;
    const width = outlier ? 1600 : rng.int(96, 160);
    const height = outlier ? 90 : rng.int(96, 160);
    const name = `img_${String(i).padStart(5, '0')}.${png ? 'png' : 'jpg'}`;
    files.push({ name, target: masked ? '1' : '0' });
    const img = await picture(rng, width, height, masked);
    batch.push(
      (png ? img.png() : img.jpeg({ quality: 80 })).toFile(join(imagesDir, name)).then(() => undefined),
    );
    if (batch.length >= 16) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  const copyOf = files[0];
  if (!copyOf) throw new Error('count must be at least 8');
  const dupName = 'img_dup_copy.jpg';
  writeFileSync(join(imagesDir, dupName), readFileSync(join(imagesDir, copyOf.name)));
  files.push({ name: dupName, target: copyOf.target });
  const broken = 'img_truncated.jpg';
  const whole = await (await picture(rng, 120, 120, false)).jpeg({ quality: 85 }).toBuffer();
  writeFileSync(join(imagesDir, broken), whole.subarray(0, Math.floor(whole.length / 3)));
  files.push({ name: broken, target: '0' });
  const labelsCsv = join(dir, 'labels.csv');
  writeFileSync(labelsCsv, `image,target\n${files.map((f) => `${f.name},${f.target}`).join('\n')}\n`);
  return { dir, imagesDir, labelsCsv, files, duplicate: [copyOf.name, dupName], truncated: broken };
}

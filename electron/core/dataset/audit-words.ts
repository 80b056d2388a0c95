/** How the audit names features, values and classes in sentences: words, never the detail's keys. */
import { formatBytes } from '../../../shared/format';

export const FEATURE_WORDS: Record<string, string> = {
  width: 'image width',
  height: 'image height',
  aspect: 'aspect ratio (width / height)',
  bytes: 'file size',
  format: 'file format',
  space: 'colour space',
};

const SPACE_WORDS: Record<string, string> = {
  srgb: 'sRGB',
  rgb: 'RGB',
  cmyk: 'CMYK',
  'b-w': 'greyscale',
  grey16: '16-bit greyscale',
};

/** A feature's value with its unit: "538 px", "1.33", "45.0 KB". */
export function featureValue(feature: string, v: number): string {
  if (feature === 'aspect') return v.toFixed(2);
  if (feature === 'bytes') return formatBytes(Math.round(v));
  return `${Math.round(v).toLocaleString('en')} px`;
}

/** The images that have a categorical value, as a plural noun phrase: "PNGs", "CMYK images". */
export function valueImages(feature: string, value: string): string {
  if (value === 'unknown') return `images of unknown ${FEATURE_WORDS[feature] ?? feature}`;
  if (feature === 'format') return `${value.toUpperCase()}s`;
  if (feature === 'space') return `${SPACE_WORDS[value] ?? value} images`;
  return `images with ${FEATURE_WORDS[feature] ?? feature} ${value}`;
}

/** A class as a person calls it, quoted: 'mask'. */
export function quoted(displayName: string): string {
  return `'${displayName}'`;
}

export function pct(share: number): string {
  return `${Math.round(share * 100)} %`;
}

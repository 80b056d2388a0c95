/**
 * zod's complaints in words a person can act on. zod says "images: Too small: expected array to have >=1
 * items"; a person who pressed 0 on a row whose file is missing needs "Choose at least one image". Every
 * border that validates with the contract's schemas (dispatch, the server, the desktop shell, the CLI)
 * turns issues into text here, so the same mistake reads the same everywhere.
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** How a contract field is named in a sentence: a countable noun (`image`, plural `images`), else a phrase. */
interface FieldWords {
  /** Singular noun for one element, for arrays and counts ("image"). */
  noun: string;
  /** The field itself in a sentence ("the label"). */
  the: string;
  /** What to do when it is missing or empty ("Choose a label"). */
  give: string;
  /** What a value must be when the field takes one of several forms. */
  forms?: string;
}

const FIELDS: Record<string, FieldWords> = {
  images: { noun: 'image', the: 'the images', give: 'Choose at least one image', forms: 'an image id (a positive whole number), a file name or a path' },
  image: { noun: 'image', the: 'the image', give: 'Choose an image', forms: 'an image id (a positive whole number), a file name or a path' },
  imageId: { noun: 'image', the: 'the image id', give: 'Choose an image' },
  label: { noun: 'label', the: 'the label', give: 'Choose a label (one of the classes)' },
  reason: { noun: 'reason', the: 'the reason', give: 'Say why (a reason is kept with the exclusion)' },
  runs: { noun: 'run', the: 'the runs', give: 'Choose the runs' },
  run: { noun: 'run', the: 'the run', give: 'Choose a run' },
  id: { noun: 'id', the: 'the id', give: 'Give an id' },
  findingId: { noun: 'finding', the: 'the finding', give: 'Choose a finding' },
  jobId: { noun: 'job', the: 'the job id', give: 'Give the job id' },
  dir: { noun: 'folder', the: 'the image folder', give: 'Give the image folder' },
  folder: { noun: 'folder', the: 'the labelled folder', give: 'Give the labelled folder (one subfolder per class)' },
  perClass: { noun: 'image', the: 'the images per class', give: 'Give the number of images per class (a whole number)' },
  testDir: { noun: 'folder', the: 'the test image folder', give: 'Give the test image folder' },
  labels: { noun: 'file', the: 'the labels CSV', give: 'Give the labels CSV' },
  sampleSubmission: { noun: 'file', the: 'the sample submission CSV', give: 'Give the sample submission CSV' },
  classes: { noun: 'class', the: 'the classes', give: 'Give the class names' },
  name: { noun: 'name', the: 'the name', give: 'Give a name' },
  displayName: { noun: 'name', the: 'the display name', give: 'Give a display name' },
  out: { noun: 'file', the: 'the output file', give: 'Give the file to write' },
  outDir: { noun: 'folder', the: 'the output folder', give: 'Give the folder to write into' },
  model: { noun: 'model', the: 'the model', give: 'Choose a model' },
  fill: { noun: 'probability', the: 'the fill probability', give: 'Give the fill probability' },
  epochs: { noun: 'epoch', the: 'the number of epochs', give: 'Give the number of epochs (a whole number)' },
  batchSize: { noun: 'image', the: 'the batch size', give: 'Give the batch size (a whole number)' },
  lr: { noun: 'rate', the: 'the learning rate', give: 'Give the learning rate (a number such as 0.01)' },
  inputSize: { noun: 'pixel', the: 'the input size', give: 'Give the input size in pixels (a whole number)' },
};

function plural(n: number, noun: string): string {
  if (n === 1) return noun;
  if (noun.endsWith('s')) return `${noun}es`;
  return noun.endsWith('y') ? `${noun.slice(0, -1)}ies` : `${noun}s`;
}

function capitalise(s: string): string {
  return s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** The field an issue is about: its last named key, and the element index when the path ends in one. */
function fieldOf(path: readonly PropertyKey[]): { key: string | null; index: number | null; words: FieldWords } {
  let key: string | null = null;
  let index: number | null = null;
  for (const p of path) {
    if (typeof p === 'number') index = p;
    else if (typeof p === 'string') {
      key = p;
      index = null;
    }
  }
  const known = key !== null ? FIELDS[key] : undefined;
  const words = known ?? { noun: 'value', the: key === null ? 'the input' : `'${key}'`, give: key === null ? 'Give an input' : `Give '${key}'` };
  return { key, index, words };
}

function shown(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}…` : v}'`;
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'a list' : 'an object';
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

function listWords(values: readonly unknown[]): string {
  const parts = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/**
 * Text a person typed, by field (`{ epochs: 'abc' }`), for a form or flag that turns text into numbers: zod
 * sees 'abc' only as NaN, and "got NaN" tells nobody what they typed.
 */
export type TypedText = Readonly<Record<string, string>>;

/** The value an issue quotes: what was typed where a number could not be read from it, else the input. */
function quoted(issue: Issue, key: string | null, typed: TypedText | undefined): string {
  const text = key !== null ? typed?.[key] : undefined;
  if (text !== undefined && typeof issue.input === 'number' && !Number.isFinite(issue.input)) return shown(text.trim());
  return shown(issue.input);
}

/** One issue as one sentence (no trailing period: the caller joins them). */
export function issueSentence(issue: Issue, typed?: TypedText): string {
  const { key, index, words } = fieldOf(issue.path);
  const subject = index !== null ? `${capitalise(words.noun)} ${index + 1}` : capitalise(words.the);
  switch (issue.code) {
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') {
        return min <= 1 ? `Choose at least one ${words.noun}` : `Choose at least ${min} ${plural(min, words.noun)}`;
      }
      if (issue.origin === 'string') return min <= 1 ? `${words.give}: ${words.the} is empty` : `${subject} needs at least ${min} characters`;
      return `${subject} must be ${issue.inclusive === false ? 'more than' : 'at least'} ${min}${issue.input !== undefined ? ` (got ${shown(issue.input)})` : ''}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') {
        const got = Array.isArray(issue.input) ? ` (got ${issue.input.length.toLocaleString('en')}): send the rest in further calls` : '';
        return `Choose at most ${max.toLocaleString('en')} ${plural(max, words.noun)}${got}`;
      }
      if (issue.origin === 'string') return `${subject} is longer than ${max} characters`;
      return `${subject} must be ${issue.inclusive === false ? 'less than' : 'at most'} ${max}${issue.input !== undefined ? ` (got ${shown(issue.input)})` : ''}`;
    }
    case 'invalid_type':
      if (issue.input === undefined) return `${words.give}: it is missing`;
      return `${subject} must be ${TYPE_WORDS[issue.expected] ?? issue.expected} (got ${quoted(issue, key, typed)})`;
    case 'invalid_value':
      return `${subject} must be ${listWords(issue.values)}${issue.input !== undefined ? ` (got ${shown(issue.input)})` : ''}`;
    case 'unrecognized_keys':
      return `${issue.keys.length === 1 ? 'This option is' : 'These options are'} not known here: ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_format':
      return `${subject} is not in the expected form${issue.input !== undefined ? ` (got ${shown(issue.input)})` : ''}`;
    case 'not_multiple_of':
      return `${subject} must be a multiple of ${issue.divisor}`;
    case 'invalid_union': {
      if (words.forms !== undefined) return `${subject} must be ${words.forms}${issue.input !== undefined ? ` (got ${shown(issue.input)})` : ''}`;
      // the option closest to matching (fewest complaints) says what was meant
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0];
      const inner = closest?.[0];
      return inner ? issueSentence({ ...inner, path: [...issue.path, ...inner.path] }, typed) : `${subject} is not valid`;
    }
    case 'custom':
      // refinements in the contract are written for people already
      return issue.message;
    default:
      return `${subject} is not valid`;
  }
}

/**
 * Every issue as a sentence, joined: what was wrong and what to do. A form or flag that parsed numbers from
 * text passes that text as `typed`, so a value that was no number is quoted as typed.
 */
export function describeValidation(issues: readonly Issue[], typed?: TypedText): string {
  const sentences = [...new Set(issues.map((issue) => issueSentence(issue, typed)))];
  return sentences.length === 0 ? 'The input is not valid.' : `${sentences.join('. ')}.`;
}

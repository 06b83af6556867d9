/**
 * Base model names: the Hugging Face Hub moved its oldest models under organisations (`gpt2` is now
 * `openai-community/gpt2`) and both names still resolve, so adapters trained on the same weights
 * name them differently. A small, documented table maps the legacy names to the current ones; a
 * library stores the current name and a recipe may use either. Only renames of the *same* weights
 * belong here (docs/library.md lists them).
 */
import { parseDetails } from './schema';

const ORGS: Record<string, string[]> = {
  'openai-community': ['gpt2', 'gpt2-medium', 'gpt2-large', 'gpt2-xl', 'openai-gpt'],
  distilbert: ['distilgpt2', 'distilbert-base-uncased', 'distilbert-base-cased', 'distilroberta-base'],
  'google-bert': ['bert-base-uncased', 'bert-base-cased', 'bert-large-uncased', 'bert-large-cased', 'bert-base-multilingual-cased'],
  FacebookAI: ['roberta-base', 'roberta-large', 'xlm-roberta-base', 'xlm-roberta-large'],
  'google-t5': ['t5-small', 't5-base', 't5-large'],
};

/** Legacy name → current Hub id. */
export const BASE_ALIASES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(ORGS).flatMap(([org, names]) => names.map((n) => [n, `${org}/${n}`]))),
);

/** The current Hub id of a base model name (unchanged when it is not a known legacy name). */
export function normaliseBase(name: string): string {
  return Object.prototype.hasOwnProperty.call(BASE_ALIASES, name) ? BASE_ALIASES[name] : name;
}

/** Every spelling of the same base (the current id first): for filtering rows stored before normalisation. */
export function baseSpellings(name: string): string[] {
  const current = normaliseBase(name);
  const legacy = Object.keys(BASE_ALIASES).filter((k) => BASE_ALIASES[k] === current);
  return [current, ...legacy];
}

export function sameBase(a: string, b: string): boolean {
  return normaliseBase(a) === normaliseBase(b);
}

/** A base that is a path on someone's machine (MLX writes the local folder it loaded): not a model id. */
export function isLocalPath(name: string): boolean {
  return /^(\/|~|\.\.?\/|[A-Za-z]:[\\/])/.test(name);
}

/** The base the adapter itself names, when `library add --base` overrode it (details.base_declared). */
export function baseOverride(record: { details?: string }): string | undefined {
  const d = parseDetails(record.details);
  return d?.base_override === true && typeof d.base_declared === 'string' ? d.base_declared : undefined;
}

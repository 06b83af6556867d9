/** Shared recipe texts and an independent way to find where a snippet sits in a text (0-based). */
import type { Range } from '../../server/src/engine/recipe';

export const VALID_RECIPE = `# Compose site E from its neighbours.
compose: 1
name: prostate-e
base: facebook/sam-vit-base
library: ../library
target:
  samples: data/prostate-e/*.npy   # encoded, then mean-pooled
retrieve: { k: 5, exclude: [prostate-e], where: "array_has(tags, 'prostate')" }
weights:
  strategy: sparse
  lambda: 0.05
merge: { method: svd, rank: 16, dtype: bf16, modules_to_save: refuse }
output: ../out/prostate-e
evaluate: { command: [python, score.py, "{output}"], timeout: 600 }
`;

/** The range of the `occurrence`-th (0-based) match of `needle` in `text`, computed by splitting lines. */
export function rangeOfText(text: string, needle: string, occurrence = 0): Range {
  let from = -1;
  for (let i = 0; i <= occurrence; i++) {
    from = text.indexOf(needle, from + 1);
    if (from < 0) throw new Error(`fixture: ${JSON.stringify(needle)} not found (occurrence ${occurrence})`);
  }
  const before = text.slice(0, from).split('\n');
  const start = { line: before.length - 1, character: before[before.length - 1].length };
  const inside = needle.split('\n');
  const end =
    inside.length === 1
      ? { line: start.line, character: start.character + needle.length }
      : { line: start.line + inside.length - 1, character: inside[inside.length - 1].length };
  return { start, end };
}

/** Replaces the first `from` with `to` (fails loudly when absent, so a fixture typo cannot pass silently). */
export function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture: ${JSON.stringify(from)} not found`);
  return text.replace(from, to);
}

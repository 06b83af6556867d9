/**
 * The one place recipe text becomes a YAML document, for the planner (parse.ts, strict) and the
 * editor's structure (service/recipeDocument.ts, lenient, only when the planner's parse is missing).
 * It counts its calls so a test can prove that each version of an editor buffer is parsed once.
 */
import { parseDocument, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';

/** How many recipe texts were parsed into YAML in this process (a test seam; nothing else reads it). */
export const recipeYamlParses = { count: 0 };

export function parseRecipeYaml(text: string, options: ParseOptions & DocumentOptions & SchemaOptions) {
  recipeYamlParses.count++;
  return parseDocument(text, options);
}

/**
 * The server's text documents, bounded. vscode-languageserver-textdocument applies an incremental
 * edit by rebuilding the string and shifting every later line offset: O(document) per keystroke, so a
 * 50 MB buffer edited 300 times kept the server busy for 43 s without answering (peak 807 MB).
 *
 * Recipes are a few KB. A document above MAX_TRACKED_CHARS is kept as an `OversizedDocument`: its
 * edits cost O(1) (only the version moves), and its text reads as a fixed placeholder that the
 * language service reports as too large (a diagnostic at 1:1) and never parses or plans. A full-text
 * change (or closing and reopening) brings it back once it is small again.
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import type { TextDocumentsConfiguration } from 'vscode-languageserver';
import { MAX_RECIPE_BYTES } from '../service/recipeDocument';

/** Above this many characters a buffer is no longer tracked character by character. */
export const MAX_TRACKED_CHARS = 2 * MAX_RECIPE_BYTES;

let placeholder: string | undefined;
/** What an oversized document reads as: one line, just over the recipe limit (made once). */
export function oversizedPlaceholder(): string {
  placeholder ??= ' '.repeat(MAX_RECIPE_BYTES + 1);
  return placeholder;
}

export class OversizedDocument implements TextDocument {
  constructor(readonly uri: string, readonly languageId: string, public version: number, readonly sizeWhenDropped: number) {}

  get lineCount(): number {
    return 1;
  }
  getText(): string {
    return oversizedPlaceholder();
  }
  positionAt(): { line: number; character: number } {
    return { line: 0, character: 0 };
  }
  offsetAt(): number {
    return 0;
  }
  getLineRange(): { start: { line: number; character: number }; end: { line: number; character: number } } {
    return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  }
  getEOLCharacters(): string {
    return '\n';
  }
}

function tracked(uri: string, languageId: string, version: number, content: string): TextDocument {
  return content.length > MAX_TRACKED_CHARS ? new OversizedDocument(uri, languageId, version, content.length) : TextDocument.create(uri, languageId, version, content);
}

export const boundedDocuments: TextDocumentsConfiguration<TextDocument> = {
  create: tracked,
  update(document: TextDocument, changes: TextDocumentContentChangeEvent[], version: number): TextDocument {
    // A full-text change replaces everything: start over from it (possibly small again).
    let lastFull = -1;
    changes.forEach((c, i) => {
      if (!('range' in c) || c.range === undefined) lastFull = i;
    });
    if (lastFull >= 0) {
      const full = changes[lastFull];
      const fresh = tracked(document.uri, document.languageId, version, full.text);
      const rest = changes.slice(lastFull + 1);
      return rest.length && !(fresh instanceof OversizedDocument) ? boundedDocuments.update(fresh, rest, version) : fresh;
    }
    if (document instanceof OversizedDocument) {
      document.version = version;
      return document;
    }
    // Edits that would grow the buffer past the bound: stop tracking before paying for them.
    const growth = changes.reduce((s, c) => s + c.text.length, 0);
    if (document.getText().length + growth > MAX_TRACKED_CHARS) {
      const updated = TextDocument.update(document, changes, version);
      const size = updated.getText().length;
      if (size > MAX_TRACKED_CHARS) return new OversizedDocument(document.uri, document.languageId, version, size);
      return updated;
    }
    return TextDocument.update(document, changes, version);
  },
};

/**
 * Open documents and files on disk: a YAML buffer's every change goes to the plan scheduler (debounced
 * there), a save or a watched file's change re-plans (the lock, samples and library tables are read
 * from disk), a close forgets the recipe and clears its diagnostics.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocuments } from 'vscode-languageserver/node';
import type { ServerState } from './serverState';

function isYamlDocument(doc: TextDocument): boolean {
  return doc.languageId === 'adapter-compose' || doc.languageId === 'yaml' || /\.ya?ml$/i.test(doc.uri);
}

export function registerDocuments(state: ServerState, documents: TextDocuments<TextDocument>): void {
  const { connection, scheduler, log } = state;

  connection.onDidChangeWatchedFiles(
    state.guarded('watched files', undefined, (change) => {
      // The planner fingerprints samples and reads the library version on every plan: re-planning is enough.
      if (change.changes.length) scheduler.replanAll(100);
    }),
  );

  documents.onDidChangeContent((change) => {
    try {
      const doc = change.document;
      if (!isYamlDocument(doc)) return;
      scheduler.update(doc.uri, state.fileOf(doc.uri), doc.version, doc.getText());
    } catch (e) {
      log.error('document change failed', e);
    }
  });

  documents.onDidSave((change) => {
    // The saved recipe is what compose and the lock read: re-check the on-disk facts (stale lock).
    if (scheduler.get(change.document.uri)) scheduler.replanAll(0);
  });

  documents.onDidClose((change) => {
    scheduler.close(change.document.uri);
    state.lensesFetched.delete(change.document.uri);
    void connection.sendDiagnostics({ uri: change.document.uri, diagnostics: [] });
  });
}

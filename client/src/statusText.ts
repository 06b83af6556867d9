/**
 * The status bar item's text as a pure function of the server's status (tested without VS Code). Before a
 * recipe names a library the item said only `auto` (the execution-provider setting), which told a new user
 * nothing; it now says whose item it is and what the word is.
 */
import type { StatusParams } from '../../server/src/protocol';

export function statusFacts(s: Partial<StatusParams>): string {
  if (s.librarySize === undefined) return ['Adapter Composer', s.encoder, s.provider ? `provider ${s.provider}` : undefined].filter(Boolean).join(' · ');
  return [`${s.librarySize} adapter${s.librarySize === 1 ? '' : 's'}`, s.encoder, s.provider].filter(Boolean).join(' · ');
}

/**
 * `check` results for CI: GitHub Actions workflow commands (annotations on the pull request's diff)
 * and SARIF 2.1.0 (code scanning), with every problem kind as a rule whose id is the problem's code.
 * Lines and columns are 1-based in both; columns count UTF-16 code units, as LSP ranges do.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { visibleText, type Problem } from '../engine/recipe/problem';
import { knownRules, ruleFor } from '../engine/recipe/rules';
import { displayPath } from './recipeFiles';

export interface CheckedFile {
  /** Absolute path. */
  file: string;
  problems: Problem[];
}

/** Workflow-command data: %, CR and LF escaped (as @actions/core's escapeData). */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Workflow-command property values: also ':' and ',' (as @actions/core's escapeProperty). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

const GITHUB_COMMAND: Record<Problem['severity'], string | undefined> = { error: 'error', warning: 'warning', information: 'notice', hint: undefined };

/** Paths as GitHub wants them: relative to the repository root (the working folder in a workflow), '/'. */
function relativePath(file: string, cwd: string): string {
  return displayPath(file, cwd).split(path.sep).join('/');
}

/** `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`, one line per problem (hints omitted). */
export function githubCommands(files: CheckedFile[], cwd: string): string[] {
  const out: string[] = [];
  for (const { file, problems } of files) {
    for (const p of problems) {
      const command = GITHUB_COMMAND[p.severity];
      if (!command) continue;
      const props: [string, string][] = [
        ['file', relativePath(file, cwd)],
        ['line', String(p.range.start.line + 1)],
        ['col', String(p.range.start.character + 1)],
        ['endLine', String(p.range.end.line + 1)],
        ['endColumn', String(p.range.end.character + 1)],
        ['title', `adapter-composer ${p.code}`],
      ];
      out.push(`::${command} ${props.map(([k, v]) => `${k}=${escapeProperty(v)}`).join(',')}::${escapeData(visibleText(p.message))}`);
    }
  }
  return out;
}

const SARIF_LEVEL: Record<Problem['severity'], 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

/** A relative URI (percent-encoded segments) under %SRCROOT%, or an absolute file: URI outside it. */
function artifactLocation(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  const rel = path.relative(cwd, file);
  if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) {
    return { uri: rel.split(path.sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  }
  return { uri: pathToFileURL(file).href };
}

export function sarifLog(files: CheckedFile[], options: { cwd: string; version: string; informationUri: string }): unknown {
  const used = new Set(files.flatMap((f) => f.problems.map((p) => p.code)));
  const rules = knownRules();
  for (const code of [...used].sort()) if (!rules.some((r) => r.id === code)) rules.push(ruleFor(code));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = files.flatMap(({ file, problems }) =>
    problems.map((p) => ({
      ruleId: p.code,
      ruleIndex: index.get(p.code)!,
      level: SARIF_LEVEL[p.severity],
      message: { text: visibleText(p.message) },
      locations: [{
        physicalLocation: {
          artifactLocation: artifactLocation(file, options.cwd),
          region: {
            startLine: p.range.start.line + 1,
            startColumn: p.range.start.character + 1,
            endLine: p.range.end.line + 1,
            endColumn: p.range.end.character + 1,
          },
        },
      }],
    })),
  );
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'adapter-composer',
          version: options.version,
          informationUri: options.informationUri,
          rules: rules.map((r) => ({ id: r.id, name: r.id, shortDescription: { text: r.description } })),
        },
      },
      originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(options.cwd + path.sep).href } },
      columnKind: 'utf16CodeUnits',
      results,
    }],
  };
}

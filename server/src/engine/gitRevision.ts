/**
 * A file as it was at a git revision (`git show <rev>:./<file>`), for reviewing a lock against `main`
 * or `HEAD`. git runs through execFile with an argv array — never a shell — in the file's folder, and
 * its failures become located ComposerErrors that say what to do.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from './errors';

function git(args: string[], cwd: string): Promise<{ ok: true; stdout: string } | { ok: false; stderr: string; missing?: boolean }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) resolve({ ok: true, stdout });
      else resolve({ ok: false, stderr: String(stderr || error.message).trim(), missing: (error as NodeJS.ErrnoException).code === 'ENOENT' });
    });
  });
}

/** The text of `file` at `revision`, and the file's path in the repository (`<revision>:<gitPath>` is git's name for it). */
export async function readAtRevision(file: string, revision: string): Promise<{ text: string; gitPath: string }> {
  const abs = path.resolve(file);
  const shown = path.basename(abs);
  if (revision === '' || revision.startsWith('-') || /[\0\n]/.test(revision)) {
    // A leading '-' would be read by git as an option.
    throw new ComposerError('usage', `not a git revision: '${revision}'`, undefined, 'give a branch, tag or commit, e.g. --against main or --against HEAD~1');
  }
  let dir = path.dirname(abs);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const top = await git(['rev-parse', '--show-toplevel'], dir);
  if (!top.ok) {
    if (top.missing) throw new ComposerError('io', 'git is not installed (or not on PATH)', { file }, 'install git, or compare two lock files: adapter-composer diff old.compose.lock new.compose.lock');
    throw new ComposerError('io', `${shown} is not in a git repository (${top.stderr.split('\n')[0]})`, { file }, 'compare two lock files instead: adapter-composer diff old.compose.lock new.compose.lock');
  }
  const root = fs.realpathSync(top.stdout.trim());
  const real = path.join(fs.realpathSync(dir), path.relative(dir, abs));
  const relative = path.relative(root, real).split(path.sep).join('/');
  const commit = await git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], root);
  if (!commit.ok) throw new ComposerError('io', `unknown git revision '${revision}'`, { file }, 'give a branch, tag or commit that exists here (git log --oneline)');
  const r = await git(['show', `${revision}:${relative}`], root);
  if (!r.ok) {
    throw new ComposerError('io', `${relative} does not exist at ${revision}`, { file }, `compose the recipe at ${revision} and commit its lock, or compare with a revision that has it`);
  }
  return { text: r.stdout, gitPath: relative };
}

/**
 * Weights sessions kept across plans: a keystroke that changes ρ, λ, τ, the strategy, the form or
 * anything outside the weights (the output path, a comment) re-plans with the same target and the same
 * candidates, so it reuses their cost matrix, lin, convex, both λ-paths and the candidates' distances
 * (weights/solve.ts) and only reads the new point off them. The key names everything the problem is
 * made of: the library (URI and version) fixes each candidate's prototype, the target by its hash.
 */
import { WeightsSession, type WeightsProblem } from '../weights';

/** Sessions kept: a few recipes open side by side, each with its latest target. */
const KEPT = 8;

export class WeightsSessions {
  private readonly sessions = new Map<string, WeightsSession>();
  /** Plans that found their session (what the tests observe). */
  hits = 0;

  session(problem: WeightsProblem, identity: { libraryUri: string; version: string | number; targetSha256: string }): WeightsSession {
    const key = JSON.stringify([identity.libraryUri, identity.version, identity.targetSha256, problem.names]);
    const found = this.sessions.get(key);
    if (found) {
      this.hits++;
      // Most recently used last.
      this.sessions.delete(key);
      this.sessions.set(key, found);
      return found;
    }
    const session = new WeightsSession(problem);
    if (this.sessions.size >= KEPT) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(key, session);
    return session;
  }

  clear(): void {
    this.sessions.clear();
  }
}

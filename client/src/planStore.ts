/**
 * The latest plan of every open recipe, from the server's `adapterCompose/plan` notifications.
 * Keeps the last plan that worked while the recipe has an error, so the chart does not blank on a typo.
 */
import * as vscode from 'vscode';
import type { PlanJson } from '../../server/src/engine/types';
import type { PlanParams } from '../../server/src/protocol';
import { uriKey } from './recipeUri';

export interface RecipePlan {
  uri: string;
  version: number;
  /** The latest plan that succeeded. */
  plan: PlanJson | null;
  /** Set when the latest version could not be planned. */
  error?: string;
}

export class PlanStore implements vscode.Disposable {
  private readonly plans = new Map<string, RecipePlan>();
  private readonly changed = new vscode.EventEmitter<RecipePlan>();
  readonly onDidChange = this.changed.event;

  /** Accepts a notification; an older version than the one held is ignored. */
  accept(params: PlanParams): void {
    const key = normalize(params.uri);
    const held = this.plans.get(key);
    if (held && params.version < held.version) return;
    const plan = params.plan ?? null;
    const next: RecipePlan = plan
      ? { uri: params.uri, version: params.version, plan }
      : { uri: params.uri, version: params.version, plan: held?.plan ?? null, error: params.error ?? 'the recipe cannot be planned' };
    this.plans.set(key, next);
    this.changed.fire(next);
  }

  get(uri: vscode.Uri | string): RecipePlan | undefined {
    return this.plans.get(normalize(uri));
  }

  forget(uri: vscode.Uri | string): void {
    this.plans.delete(normalize(uri));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

const normalize = uriKey;

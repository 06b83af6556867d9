/** The panel's header: the recipe's name, the Compose button, the plan's facts, its error and warnings. */
import type { ViewState } from '../../../server/src/protocol';
import { el, type PanelHost } from './parts';

export function header(state: ViewState, host: PanelHost): HTMLElement {
  const plan = state.plan;
  const facts: string[] = [];
  if (plan) {
    facts.push(`strategy ${plan.strategy}`, `${plan.candidates.length} candidates`);
    if (plan.library) facts.push(`library of ${plan.library.size} (v${plan.library.version})`);
    facts.push(`target ${plan.target.source} · dim ${plan.target.dim}`);
    if (plan.provider) facts.push(`encoder on ${plan.provider}`);
  }
  const compose = el('vscode-button', {
    id: 'compose', 'aria-label': 'Compose the adapter',
    ...(state.trusted && plan && !state.error ? {} : { disabled: '' }),
    title: state.trusted ? 'Compose the adapter from this plan' : 'Compose is disabled in an untrusted workspace',
  }, 'Compose');
  compose.addEventListener('click', () => {
    if (!compose.hasAttribute('disabled')) host.postMessage({ type: 'compose', uri: state.uri });
  });
  return el('header', {},
    el('div', { class: 'title-row' }, el('h1', {}, state.fileName), compose),
    plan ? el('p', { class: 'facts' }, facts.join(' · ')) : null,
    state.error ? el('p', { class: 'error', role: 'alert' }, state.stale ? `${state.error} (showing the last plan that worked)` : state.error) : null,
    !state.trusted ? el('p', { class: 'notice' }, 'Untrusted workspace: recipes are planned, but Compose and evaluators are off.') : null,
    plan && plan.warnings.length ? el('ul', { class: 'warnings', 'aria-label': 'warnings' }, ...plan.warnings.map((w) => el('li', {}, w))) : null,
  );
}

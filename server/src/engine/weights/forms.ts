/**
 * The list of strategies and sparse forms, with their defaults, in one place: the recipe, the CLI,
 * the planner and the evaluations all enumerate them from here.
 */
import { SPARSE_FORMS, STRATEGIES, type SparseForm, type Strategy } from '../types';

export { SPARSE_FORMS, STRATEGIES };
export type { SparseForm, Strategy };

/** The sparse form used when the recipe names none. */
export const DEFAULT_SPARSE_FORM: SparseForm = 'constrained';

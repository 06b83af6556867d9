/**
 * The weights step: how much each retrieved adapter contributes to the composite.
 * All exact strategies work on C_ij = (t − pᵢ)·(t − pⱼ) (see costMatrix.ts).
 */
export { costMatrix, squaredDistance } from './costMatrix';
export { solveWeights, solveAll, lambdaPath, WeightsSession } from './solve';
export type { AllStrategies } from './solve';
export { sparseAt, defaultLambda, DEFAULT_RHO, resolveSparsePenalty } from './sparse';
export { sumOfWeights } from './manual';
export { medianDistance } from './similarity';
export type { WeightsProblem } from './problem';
export { DEFAULT_SPARSE_FORM, SPARSE_FORMS, STRATEGIES } from './forms';
export type { SparseForm, Strategy } from './forms';
export { computeLassoPath, lassoData, lassoObjective, normalisedLasso } from './lassoPath';

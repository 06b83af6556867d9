/** avg: every candidate weighs 1/k. */
export function averageWeights(k: number): Float64Array {
  return new Float64Array(k).fill(1 / k);
}

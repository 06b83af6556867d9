/** nearest: all the weight on the candidate closest to the target (ties: the first in candidate order). */
export function nearestWeights(c: Float64Array, k: number): Float64Array {
  let best = 0;
  for (let i = 1; i < k; i++) if (c[i * k + i] < c[best * k + best]) best = i;
  const w = new Float64Array(k);
  w[best] = 1;
  return w;
}

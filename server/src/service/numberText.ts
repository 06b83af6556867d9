/** How numbers read in lenses, hints and cards: a real minus sign, short but never misleading. */

const MINUS = '\u2212';

/** A weight: 2 decimals (0.47, −0.49); tiny non-zero weights keep one significant digit (0.003). */
export function weightText(w: number): string {
  if (!Number.isFinite(w)) return String(w);
  const abs = Math.abs(w);
  const body = abs !== 0 && abs < 0.005 ? trimExponent(abs.toPrecision(1)) : abs.toFixed(2);
  return (w < 0 && Number(body) !== 0 ? MINUS : '') + body;
}

/** A residual, distance, λ or τ: 2 significant digits, no exponent for ordinary magnitudes. */
export function shortNumber(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const abs = Math.abs(x);
  let body: string;
  if (abs >= 1e-4 && abs < 1e6) {
    body = abs >= 10 ** digits ? Math.round(abs).toString() : Number(abs.toPrecision(digits)).toString();
  } else {
    body = abs.toExponential(digits - 1);
  }
  return (x < 0 ? MINUS : '') + body;
}

function trimExponent(s: string): string {
  return s.includes('e') ? Number(s).toString() : s;
}

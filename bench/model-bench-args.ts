// The flags that bench/concurrency.ts and bench/contention.ts share:
// --model resnet18|34|50|101|152, --threads, --runs, --rounds, --out <dir>.
export interface ModelBenchOptions { model: string; threads: number; runs: number; rounds: number; out?: string }

/**
 * Parses argv into the shared options; `own(flag, value)` takes a script's own
 * flags (`value()` reads the next argument) and returns false for unknown ones.
 */
export function parseModelBenchArgs(script: string, argv: string[], defaults: Omit<ModelBenchOptions, 'out'>,
  own: (flag: string, value: () => string) => boolean): ModelBenchOptions {
  const o: ModelBenchOptions = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => argv[++i] ?? '';
    const num = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${script}: ${a} expects a positive integer but received ${argv[i]}`);
      return v;
    };
    if (a === '--model') o.model = value();
    else if (a === '--threads') o.threads = num();
    else if (a === '--runs') o.runs = num();
    else if (a === '--rounds') o.rounds = num();
    else if (a === '--out') o.out = value();
    else if (!own(a, value)) throw new RangeError(`${script}: unknown argument ${a}`);
  }
  if (!/^resnet(18|34|50|101|152)$/.test(o.model)) throw new RangeError(`${script}: --model expects resnet18|34|50|101|152 but received ${o.model}`);
  return o;
}

// `resnode info`: the SIMD path, threads, bf16 and CUDA availability.
import type { Command } from 'commander';
import { info } from '../info.js';
import { bf16Missing } from '../mode-support.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('the SIMD path, threads, bf16 and CUDA availability')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const i = info();
      if (o.json) console.log(JSON.stringify(i));
      else {
        console.log(`isa:      ${i.isa ?? 'none (addon not built)'} (detected ${i.detectedIsa ?? 'n/a'})`);
        console.log(`addon:    ${i.addon ?? i.nativeProblem}`);
        console.log(`threads:  ${i.threads}`);
        console.log(`bf16:     ${i.bf16 ? 'available (AVX512_BF16)' : `unavailable (${bf16Missing()})`}`);
        console.log(`cuda:     ${i.cuda.available ? `available (${i.cuda.device})` : i.cuda.compiled ? 'compiled, no device' : 'not compiled'}`);
      }
    });
}

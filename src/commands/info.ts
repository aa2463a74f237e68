// `resnode info`: the SIMD path, threads and CUDA availability.
import type { Command } from 'commander';
import { info } from '../info.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('the SIMD path, threads and CUDA availability')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const i = info();
      if (o.json) console.log(JSON.stringify(i));
      else {
        console.log(`isa:      ${i.isa ?? 'none (addon not built)'} (detected ${i.detectedIsa ?? 'n/a'})`);
        console.log(`threads:  ${i.threads}`);
        console.log(`cuda:     ${i.cuda.available ? `available (${i.cuda.device})` : i.cuda.compiled ? 'compiled, no device' : 'not compiled'}`);
      }
    });
}

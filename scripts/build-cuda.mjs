#!/usr/bin/env node
// npm run build:cuda: the cmake-js build with the CUDA kernels (CMakeLists.txt),
// copied over build/Release/resnode.node. cmake-js is a development tool, not a
// dependency of resnode, so inside an installed package say how to get it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let cmakeJs;
try {
  cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
} catch {
  console.error(`resnode: the CUDA build needs cmake-js (and cmake, nvcc): run \`npm install --no-save cmake-js@8\` in ${root}, then \`npm run build:cuda\` again.`);
  process.exit(1);
}
const args = [cmakeJs, 'compile', '-O', 'build-cuda', '--CDRESNODE_CUDA=ON', '--CDRESNODE_COPY_TO_BUILD_RELEASE=ON', ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

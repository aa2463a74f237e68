// Every ts/js code block of README.md runs as written, in a scratch project
// where 'resnode' resolves as it does for a user: node_modules/resnode with
// this checkout's package.json, dist freshly compiled from src, and the addon.
// ts blocks are typechecked with tsc first (an undefined name fails there),
// then run with tsx; js blocks run with plain node, as .cjs when they require().
// The files blocks read (model.onnx, cat.jpg, dog.png) are made here first.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { resnet } from '../src/graph/resnet.js';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');

interface Block {
  lang: 'ts' | 'js';
  line: number;
  code: string;
}

function readmeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```(ts|js)\n([\s\S]*?)^```$/gm;
  for (let m; (m = fence.exec(markdown)); ) {
    blocks.push({ lang: m[1] as 'ts' | 'js', line: markdown.slice(0, m.index).split('\n').length, code: m[2]! });
  }
  return blocks;
}

const markdown = await readFile(join(root, 'README.md'), 'utf8');
const blocks = readmeBlocks(markdown);

const project = (async () => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-readme-'));
  const pkg = join(dir, 'node_modules', 'resnode');
  await mkdir(pkg, { recursive: true });
  await cp(join(root, 'package.json'), join(pkg, 'package.json'));
  await exec(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')]);
  for (const name of ['build', 'prebuilds', 'scripts']) await symlink(join(root, name), join(pkg, name));
  // resnode's dependencies, the optional peers, tsx and the types come from this
  // checkout (Node follows the links, so their own dependencies resolve there too).
  const { dependencies } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of [...Object.keys(dependencies), 'onnxruntime-node', 'sharp', 'tsx', '@types']) {
    await symlink(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  }
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }));
  await writeFile(join(dir, 'model.onnx'), resnet({ depth: 18, width: 8, numClasses: 1000, seed: 2 }).toOnnx());
  const photo = (r: number, g: number, b: number) => sharp({ create: { width: 300, height: 240, channels: 3, background: { r, g, b } } });
  await photo(200, 120, 40).jpeg().toFile(join(dir, 'cat.jpg'));
  await photo(30, 90, 200).png().toFile(join(dir, 'dog.png'));
  return dir;
})();
test.after.always(async () => rm(await project, { recursive: true, force: true }));

test('README.md has the code blocks this test runs', (t) => {
  t.true(blocks.filter((b) => b.lang === 'ts').length >= 5, 'ts blocks found');
  t.true(blocks.some((b) => b.lang === 'js' && b.code.includes("require('resnode')")), 'a CommonJS block');
  t.true(blocks.some((b) => b.lang === 'js' && b.code.includes("from 'resnode'")), 'an ES module block');
});

for (const block of blocks) {
  test.serial(`README.md line ${block.line} (${block.lang}) runs as written`, async (t) => {
    const dir = await project;
    const commonjs = block.code.includes('require(');
    const file = join(dir, `block-${block.line}.${block.lang === 'ts' ? 'mts' : commonjs ? 'cjs' : 'mjs'}`);
    await writeFile(file, block.lang === 'ts' ? `${block.code}\nexport {};\n` : block.code);
    if (block.lang === 'ts') {
      const tsconfig = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: true }, files: [file] };
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
      const tsc = await exec(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]).catch((e: { stdout: string }) => e);
      t.is(tsc.stdout, '', 'tsc accepts the block');
    }
    const args = block.lang === 'ts' ? ['--import', 'tsx', file] : [file];
    const run = await exec(process.execPath, args, { cwd: dir, maxBuffer: 1 << 24, timeout: 240_000 });
    t.not(run.stdout.trim(), '', 'the block prints what it computed');
  });
}

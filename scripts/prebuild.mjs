#!/usr/bin/env node
// Puts the prebuilt addons the package ships into prebuilds/ (prebuildify's
// layout, which node-gyp-build loads): prebuilds/linux-<arch>/resnode.napi.glibc.node.
// Runs before `npm pack` / `npm publish` (prepack), as `npm run build:prebuilds`,
// and in CI (the arm64 job). Not named "prebuild": npm would run that before `npm run build`.
//   linux-x64 on an x64 host: build/Release/resnode.node (rebuilt first when
//     older than the sources), stripped.
//   linux-arm64: cross-built with Debian's g++-aarch64-linux-gnu in build-arm64/
//     (incremental), stripped.
// Both link libstdc++/libgcc statically (binding.gyp), so they need only glibc
// (as new as the build machine's); this script checks that.
//   --arch x64,arm64         which to make (default: both)
//   --require linux-x64,...  fail instead of warning when one cannot be made (publish)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, localHeadersArgs } from './node-gyp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const option = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1].split(',');
};
const arches = option('--arch', ['x64', 'arm64']);
const required = new Set(option('--require', []));

/** Debian's cross toolchain prefix per target, when the host is the other one. */
const CROSS = { arm64: 'aarch64-linux-gnu', x64: 'x86_64-linux-gnu' };
const ELF_MACHINE = { arm64: 'AArch64', x64: 'Advanced Micro Devices X86-64' };
const GLIBC_ONLY = /^(libc|libm|libpthread|libdl|librt|ld-linux[-\w.]*)\.so(\.\d+)?$/;

function newestSource() {
  let newest = statSync(join(root, 'binding.gyp')).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(root, 'native'));
  return newest;
}

const upToDate = (file, since) => existsSync(file) && statSync(file).mtimeMs >= since;
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** The addon for the host's own arch: the contributor's build/Release one. */
function buildHost(since) {
  const built = join(root, 'build', 'Release', 'resnode.node');
  if (!upToDate(built, since)) run(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--force'], { cwd: root });
  return built;
}

/** A cross build in build-<arch>/, a staging folder that links to the sources. */
function buildCross(arch) {
  const prefix = CROSS[arch];
  if (!onPath(`${prefix}-g++`)) throw new Error(`${prefix}-g++ is not on PATH (apt-get install g++-${prefix.replace(/_/g, '-')})`);
  const gyp = findNodeGyp();
  if (!gyp) throw new Error('node-gyp not found');
  const stage = join(root, `build-${arch}`);
  mkdirSync(stage, { recursive: true });
  for (const name of ['binding.gyp', 'native', 'node_modules']) {
    if (!existsSync(join(stage, name))) symlinkSync(join(root, name), join(stage, name));
  }
  const env = { ...process.env, CC: `${prefix}-gcc`, CXX: `${prefix}-g++`, LINK: `${prefix}-g++`, AR: `${prefix}-ar` };
  const built = join(stage, 'build', 'Release', 'resnode.node');
  const configured = existsSync(join(stage, 'build', 'Makefile'));
  run(process.execPath, [gyp, configured ? 'build' : 'rebuild', `--arch=${arch}`, '-j', 'max', ...localHeadersArgs()], { cwd: stage, env });
  return built;
}

/** Refuses a binary of the wrong machine or one that needs more than glibc. */
function check(file, arch) {
  const header = spawnSync('readelf', ['-h', '-d', file], { encoding: 'utf8' });
  if (header.status !== 0) throw new Error(`readelf failed on ${file}: ${header.stderr}`);
  if (!new RegExp(`Machine:\\s+${ELF_MACHINE[arch]}`).test(header.stdout)) throw new Error(`${file} is not an ${arch} binary`);
  const needed = [...header.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const extra = needed.filter((lib) => !GLIBC_ONLY.test(lib));
  if (extra.length) throw new Error(`${file} needs ${extra.join(', ')} besides glibc (link them statically)`);
  return needed;
}

if (process.platform !== 'linux') {
  console.error('resnode prebuild: prebuilt binaries are made on Linux only (linux-x64 and linux-arm64, glibc).');
  process.exit(required.size ? 1 : 0);
}
const since = newestSource();
let failed = false;
for (const arch of arches) {
  const platform = `linux-${arch}`;
  const out = join(root, 'prebuilds', platform, 'resnode.napi.glibc.node');
  try {
    if (upToDate(out, since)) {
      console.error(`resnode prebuild: ${platform} is up to date (${out})`);
      continue;
    }
    const built = arch === hostArch() ? buildHost(since) : buildCross(arch);
    mkdirSync(dirname(out), { recursive: true });
    copyFileSync(built, out);
    const strip = arch === hostArch() ? 'strip' : `${CROSS[arch]}-strip`;
    if (onPath(strip)) run(strip, ['--strip-unneeded', out]);
    const needed = check(out, arch);
    console.error(`resnode prebuild: ${platform} -> ${out} (${(statSync(out).size / 1e6).toFixed(1)} MB, needs ${needed.join(' ')})`);
  } catch (err) {
    rmSync(out, { force: true }); // never ship a stale one
    const message = `resnode prebuild: ${platform} not made: ${err.message}`;
    if (required.has(platform)) {
      console.error(message);
      failed = true;
    } else {
      console.warn(`${message}; the package will not ship it`);
    }
  }
}
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
// The package.json that ships has no `prepare` script. The repo needs it (a
// contributor's `npm install` builds the addon and the TypeScript), but npm 11
// counts it as an install script of the installed package, so a user's
// `npm install --strict-allow-scripts` would refuse resnode. Users run the
// prebuilt addon instead (scripts/prebuild.mjs).
//   strip    (prepack): save package.json to .scratch/, write it without `prepare`
//   restore  (postpack): put the saved package.json back
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = join(root, 'package.json');
const saved = join(root, '.scratch', 'package.json.prepack');
const DEV_ONLY_SCRIPTS = ['prepare'];

function restore() {
  if (!existsSync(saved)) return;
  copyFileSync(saved, manifest);
  rmSync(saved);
}

const mode = process.argv[2];
if (mode === 'strip') {
  restore(); // a pack that failed before postpack left the stripped one in place
  mkdirSync(dirname(saved), { recursive: true });
  const text = readFileSync(manifest, 'utf8');
  writeFileSync(saved, text);
  const pkg = JSON.parse(text);
  for (const s of DEV_ONLY_SCRIPTS) delete pkg.scripts[s];
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
} else if (mode === 'restore') {
  restore();
} else {
  console.error('usage: pack-manifest.mjs strip|restore');
  process.exit(1);
}

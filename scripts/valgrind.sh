#!/usr/bin/env bash
# npm run valgrind — memcheck a small model's load + run + runSync + dispose
# through the normal addon (build/Release/resnode.node).
#
#   bash scripts/valgrind.sh            # ResNet-18 at width 8, 32×32, native backend, 2 threads
#
# Needs valgrind (apt-get install -y valgrind). Node runs with --jitless so that
# V8's generated code does not confuse memcheck; leak checking is off (Node does
# not free its heap at exit) — the addon's own leaks are covered by the soak's
# load/dispose cycles. Any invalid read/write, use of uninitialised memory in a
# branch, or bad free fails the run (exit 1) and prints the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install -y valgrind)" >&2; exit 1; }
[ -e build/Release/resnode.node ] || npm run build:native

LOG=${VALGRIND_LOG:-.scratch/valgrind.log}
mkdir -p "$(dirname "$LOG")"
DRIVER=$(cat <<'EOF'
import { load, resnet, Tensor } from './src/index.ts';
const bytes = resnet({ depth: 18, width: 8, inputSize: 32, numClasses: 10, seed: 3 }).toOnnx();
const model = await load(bytes, { backend: 'native', threads: 2 });
const x = new Tensor('float32', Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i)), [2, 3, 32, 32]);
const a = (await model.run({ input: x })).output;
const b = model.runSync({ input: x }).output;
const [c] = await Promise.all([model.run({ input: x }), model.run({ input: x })]);
for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i] || a.data[i] !== c.output.data[i]) throw new Error(`run/runSync differ at ${i}`);
await model.dispose();
console.log(`valgrind driver: ok, output [${a.dims}] ${[...a.data.slice(0, 3)].map((v) => v.toFixed(4)).join(' ')}`);
EOF
)

# Suppressions for reports that are not ours: glibc's SSE strncmp over-reading a
# strdup'd rpath while dlopen()ing, and V8's conservative stack scan (cppgc)
# reading uninitialised stack slots by design.
SUPP=$(mktemp)
trap 'rm -f "$SUPP"' EXIT
cat >"$SUPP" <<'SUPP_END'
{
   glibc-dl-load-strncmp
   Memcheck:Addr8
   fun:strncmp
   fun:is_dst
   ...
}
{
   v8-conservative-stack-scan
   Memcheck:Cond
   fun:*IteratePointersInStack*
   ...
}
{
   v8-conservative-stack-scan-value
   Memcheck:Value8
   fun:*IteratePointersInStack*
   ...
}
SUPP_END

echo "valgrind: memcheck of load + run + runSync + dispose (log: $LOG)"
start=$(date +%s)
set +e
valgrind --tool=memcheck --error-exitcode=1 --leak-check=no --track-origins=yes --suppressions="$SUPP" \
  --num-callers=30 --smc-check=all-non-file --log-file="$LOG" \
  node --jitless --import=tsx --input-type=module -e "$DRIVER"
rc=$?
set -e
errors=$(grep -E "ERROR SUMMARY" "$LOG" | tail -1)
echo "valgrind: $errors (exit $rc, $(( $(date +%s) - start )) s)"
if [ "$rc" -ne 0 ]; then
  grep -nE "Invalid|uninitialised|Mismatched|free\(\)|resnode" "$LOG" | head -40 >&2
  exit 1
fi

#!/usr/bin/env bash
# GPU check for the CUDA path (issue 5). Run on a machine with an NVIDIA GPU:
#   scripts/gpu-check.sh            # ~2-4 min on an H200
# It
#   1. builds the CUDA kernels and the standalone C++ tests with cmake (no Node needed),
#   2. runs ctest: host tests + cuda_gpu (CUDA vs CPU kernels, whole ResNet-50 on the
#      device vs the CPU, concurrency, and the kernel/ResNet-50 benchmark),
#   3. if a node binary is available (on PATH, $NODE, or carried as ./node.xz) and
#      node_modules is present: builds the CUDA addon with cmake-js, runs
#      test/cuda.test.ts, and `resnode bench resnet50 --backends cuda,native --batch 1,64`,
#   4. measures PyTorch + cuDNN ResNet-50 (batch 64, fp32 and TF32) when python3 has
#      torch with CUDA, and compares our TF32 throughput with it (target >= 0.5x),
#   5. writes everything to bench/results/gpu.md.
# Env: RESNODE_CUDA_ARCHS (default: this GPU's arch, e.g. 90-real), CUDACXX (nvcc to use),
#      GPU_CHECK_BUILD_DIR (default build-cuda/gpu-check), GPU_CHECK_SKIP_TORCH=1,
#      GPU_CHECK_NO_SWAP=1 (do not swap the CUDA addon into build/Release for the CLI bench).
# Exit status: 0 when every check that could run passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)
OUT=bench/results/gpu.md
BUILD=${GPU_CHECK_BUILD_DIR:-build-cuda/gpu-check}
LOGDIR=$BUILD/logs
mkdir -p bench/results "$LOGDIR"
JOBS=$(nproc 2>/dev/null || echo 4)
STATUS=0
MD=$(mktemp)

say() { echo "gpu-check: $*" >&2; }
md() { printf '%s\n' "$*" >>"$MD"; }
elapsed() { echo $(( $(date +%s) - START )); }
# budget N: at most N seconds, and never past 285 s of total wall time (minimum 5).
budget() { local left=$(( 285 - $(elapsed) )); [ $left -lt 5 ] && left=5; [ $left -gt "$1" ] && left=$1; echo $left; }
fail() { STATUS=1; md "**FAIL**: $*"; say "FAIL: $*"; }
finish() {
  md ""
  md "_Total wall time: $(elapsed) s. Overall: $([ $STATUS = 0 ] && echo PASS || echo FAIL)._"
  cp "$MD" "$OUT"
  say "wrote $OUT ($(elapsed) s, $([ $STATUS = 0 ] && echo PASS || echo FAIL))"
  exit $STATUS
}

md "# GPU check ($(date -u '+%Y-%m-%d %H:%M UTC'))"
md ""
md "- commit: \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
if command -v nvidia-smi >/dev/null 2>&1; then
  GPU=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -1)
  md "- GPU: $GPU (name, driver, memory, compute capability)"
else
  GPU=""
  md "- GPU: nvidia-smi not found"
fi
NVCC=${CUDACXX:-$(command -v nvcc || true)}
[ -z "$NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc
# cudart is linked statically, so the toolkit must not be newer than the driver
# supports: if it is, prefer an installed toolkit the driver can run.
ver_num() { awk -F. '{ printf "%d\n", $1 * 100 + $2 }'; }
DRV_CUDA=$(nvidia-smi 2>/dev/null | grep -oE "CUDA Version: [0-9]+\.[0-9]+" | head -1 | awk '{print $3}')
if [ -z "${CUDACXX:-}" ] && [ -n "$DRV_CUDA" ] && [ -n "$NVCC" ]; then
  NVCC_VER=$("$NVCC" --version | grep -oE "release [0-9]+\.[0-9]+" | awk '{print $2}')
  if [ "$(echo "$NVCC_VER" | ver_num)" -gt "$(echo "$DRV_CUDA" | ver_num)" ]; then
    BEST=""; BEST_V=0
    for cand in /usr/local/cuda-*/bin/nvcc /usr/local/cuda/bin/nvcc; do
      [ -x "$cand" ] || continue
      V=$("$cand" --version | grep -oE "release [0-9]+\.[0-9]+" | awk '{print $2}' | ver_num)
      if [ "$V" -le "$(echo "$DRV_CUDA" | ver_num)" ] && [ "$V" -gt "$BEST_V" ]; then BEST=$cand; BEST_V=$V; fi
    done
    if [ -n "$BEST" ]; then
      say "nvcc $NVCC_VER is newer than the driver's CUDA $DRV_CUDA; using $BEST"
      md "- note: nvcc $NVCC_VER is newer than the driver supports (CUDA $DRV_CUDA); using $BEST"
      NVCC=$BEST
    else
      md "- **warning**: nvcc $NVCC_VER is newer than the driver supports (CUDA $DRV_CUDA) and no older toolkit was found: expect 'CUDA driver version is insufficient'"
    fi
  fi
fi
md "- nvcc: ${NVCC:-none} $([ -n "$NVCC" ] && "$NVCC" --version | tail -1)"
md "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $JOBS threads"
md ""
if [ -z "$NVCC" ]; then fail "nvcc not found (set CUDACXX)"; finish; fi

# Only this GPU's architecture by default: a third of the compile time.
if [ -z "${RESNODE_CUDA_ARCHS:-}" ]; then
  CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')
  RESNODE_CUDA_ARCHS=${CC:+${CC}-real}
  RESNODE_CUDA_ARCHS=${RESNODE_CUDA_ARCHS:-80-real;90}
fi

# ---- 1. build kernels + ctest targets ---------------------------------------------------------
md "## 1. Build (cmake, RESNODE_CUDA_ARCHS=$RESNODE_CUDA_ARCHS)"
T0=$(date +%s)
if CUDACXX=$NVCC cmake -S . -B "$BUILD" -DRESNODE_CUDA=ON -DRESNODE_BUILD_TESTS=ON -DRESNODE_BUILD_ADDON=OFF \
     "-DRESNODE_CUDA_ARCHS=$RESNODE_CUDA_ARCHS" -DCMAKE_BUILD_TYPE=Release >"$LOGDIR/configure.log" 2>&1 &&
   cmake --build "$BUILD" -j "$JOBS" >"$LOGDIR/build.log" 2>&1; then
  md ""
  md "Built in $(( $(date +%s) - T0 )) s."
else
  md '```'; tail -30 "$LOGDIR/configure.log" "$LOGDIR/build.log" >>"$MD"; md '```'
  fail "cmake build failed"
  finish
fi

# ---- 2. ctest --------------------------------------------------------------------------------------
md ""
md "## 2. ctest"
T0=$(date +%s)
export RESNODE_CUDA_TEST_MD=$ROOT/$LOGDIR/cuda_test.md
rm -f "$RESNODE_CUDA_TEST_MD"
timeout 170 ctest --test-dir "$BUILD" -V --timeout 160 >"$LOGDIR/ctest.log" 2>&1
CTEST_RC=$?
md ""
md '```'
grep -E "Test +#|tests passed|SKIP|Skipped|Failed|FAIL" "$LOGDIR/ctest.log" | grep -v "^ *[0-9]*: *|" | tail -12 >>"$MD"
md '```'
[ -f "$RESNODE_CUDA_TEST_MD" ] && cat "$RESNODE_CUDA_TEST_MD" >>"$MD"
if [ $CTEST_RC != 0 ]; then fail "ctest failed (rc=$CTEST_RC), see $LOGDIR/ctest.log"; fi
if grep -q "SKIP: no CUDA device" "$LOGDIR/ctest.log"; then fail "cuda_gpu skipped: $(grep -m1 'SKIP:' "$LOGDIR/ctest.log")"; fi
OURS_TF32=$(grep -oE "RESULT resnet50 mode=tf32 batch=64 img_s=[0-9.]+" "$LOGDIR/ctest.log" | tail -1 | sed 's/.*img_s=//')
OURS_FP32=$(grep -oE "RESULT resnet50 mode=fp32 batch=64 img_s=[0-9.]+" "$LOGDIR/ctest.log" | tail -1 | sed 's/.*img_s=//')
md ""
md "ctest took $(( $(date +%s) - T0 )) s."

# ---- 3. PyTorch + cuDNN reference (before the optional Node steps: it gates the target) ---------------------------------------------------------------
md ""
md "## 3. PyTorch + cuDNN ResNet-50, batch 64 (same machine)"
read -r -d '' PY <<'PYEOF'
import time, sys
import torch, torch.nn as nn
if not torch.cuda.is_available():
    print("SKIP torch has no CUDA"); sys.exit(0)
try:
    from torchvision.models import resnet50
    net = resnet50()
except Exception:
    class B(nn.Module):
        def __init__(s, cin, w, stride, down):
            super().__init__()
            s.c1 = nn.Conv2d(cin, w, 1, bias=False); s.b1 = nn.BatchNorm2d(w)
            s.c2 = nn.Conv2d(w, w, 3, stride, 1, bias=False); s.b2 = nn.BatchNorm2d(w)
            s.c3 = nn.Conv2d(w, w * 4, 1, bias=False); s.b3 = nn.BatchNorm2d(w * 4)
            s.d = nn.Sequential(nn.Conv2d(cin, w * 4, 1, stride, bias=False), nn.BatchNorm2d(w * 4)) if down else None
        def forward(s, x):
            i = s.d(x) if s.d is not None else x
            y = torch.relu(s.b1(s.c1(x))); y = torch.relu(s.b2(s.c2(y)))
            return torch.relu(s.b3(s.c3(y)) + i)
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for l, n in enumerate([3, 4, 6, 3]):
        for i in range(n):
            layers.append(B(cin, 64 << l, 2 if (l > 0 and i == 0) else 1, i == 0)); cin = (64 << l) * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    net = nn.Sequential(*layers)
net = net.cuda().eval()
torch.backends.cudnn.benchmark = True
x = torch.randn(64, 3, 224, 224, device="cuda")
for mode in ("fp32", "tf32"):
    torch.backends.cudnn.allow_tf32 = mode == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
    with torch.no_grad():
        for _ in range(5): net(x)
        torch.cuda.synchronize(); t = time.time(); it = 20
        for _ in range(it): net(x)
        torch.cuda.synchronize(); dt = (time.time() - t) / it
    print(f"RESULT torch mode={mode} batch=64 img_s={64 / dt:.1f} ms={dt * 1000:.2f}")
print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}")
PYEOF
PYTHON=""
for py in ${PYTHON3:-} python3 /usr/bin/python3 /usr/local/bin/python3 /opt/conda/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && timeout 60 "$py" -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
    PYTHON=$py; break
  fi
done
if [ "${GPU_CHECK_SKIP_TORCH:-0}" = 1 ] || [ -z "$PYTHON" ]; then
  md ""
  md "Skipped (no python3 with a CUDA-enabled torch, or GPU_CHECK_SKIP_TORCH=1)."
else
  timeout 100 "$PYTHON" -c "$PY" >"$LOGDIR/torch.log" 2>&1
  md ""
  md '```'; tail -6 "$LOGDIR/torch.log" >>"$MD"; md '```'
  TORCH_TF32=$(grep -oE "RESULT torch mode=tf32 batch=64 img_s=[0-9.]+" "$LOGDIR/torch.log" | sed 's/.*img_s=//')
  TORCH_FP32=$(grep -oE "RESULT torch mode=fp32 batch=64 img_s=[0-9.]+" "$LOGDIR/torch.log" | sed 's/.*img_s=//')
fi

# ---- 4. Node: the CUDA addon, its tests, the CLI bench ---------------------------------------
md ""
md "## 4. Node addon"
NODE_BIN=${NODE:-$(command -v node || true)}
if [ -z "$NODE_BIN" ] && [ -f node.xz ]; then
  mkdir -p "$BUILD/node-bin" && xz -dc node.xz >"$BUILD/node-bin/node" && chmod +x "$BUILD/node-bin/node" && NODE_BIN=$ROOT/$BUILD/node-bin/node
fi
if [ -z "$NODE_BIN" ]; then
  md ""
  md "Skipped: no node binary (not on PATH, no \$NODE, no ./node.xz)."
elif [ "$(elapsed)" -gt 200 ]; then
  md ""
  md "Skipped: not enough of the 5-minute budget left ($(elapsed) s used)."
elif [ ! -d node_modules/cmake-js ] || [ ! -d node_modules/ava ]; then
  md ""
  md "Skipped: node_modules is missing (run npm install where a registry is reachable, or carry node_modules)."
else
  export PATH=$(dirname "$NODE_BIN"):$PATH
  NODEDIR=$(dirname "$(dirname "$NODE_BIN")")
  [ -f "$NODEDIR/include/node/node_api.h" ] && export npm_config_nodedir=$NODEDIR
  md ""
  md "- node $("$NODE_BIN" --version)"
  T0=$(date +%s)
  if CUDACXX=$NVCC timeout 120 "$NODE_BIN" node_modules/cmake-js/bin/cmake-js compile -O build-cuda --CDRESNODE_CUDA=ON \
       "--CDRESNODE_CUDA_ARCHS=$RESNODE_CUDA_ARCHS" >"$LOGDIR/cmake-js.log" 2>&1; then
    md "- cmake-js build: ok ($(( $(date +%s) - T0 )) s) -> build-cuda/Release/resnode.node"
    INFO=$("$NODE_BIN" -e "console.log(JSON.stringify(require('./build-cuda/Release/resnode.node').info().cuda))" 2>&1)
    md "- info().cuda: \`$INFO\`"
    if RESNODE_ADDON=$ROOT/build-cuda/Release/resnode.node timeout "$(budget 90)" "$NODE_BIN" node_modules/ava/entrypoints/cli.mjs \
         test/cuda.test.ts test/cuda-model.test.ts --verbose >"$LOGDIR/ava.log" 2>&1; then
      md "- test/cuda.test.ts: pass"
    else
      fail "test/cuda.test.ts failed, see $LOGDIR/ava.log"
    fi
    md '```'; grep -E "✔|✘|skip|passed|failed|SKIP" "$LOGDIR/ava.log" | head -20 >>"$MD"; md '```'
    # The CLI bench (the graph issue's `resnode bench`); recorded, not gating.
    # It loads the addon from build/Release: point it at the CUDA build for this run.
    if [ -f src/cli.ts ] && [ -d node_modules/tsx ]; then
      BENCH_CMD=("$NODE_BIN" --import tsx src/cli.ts bench resnet50 --backends cuda,native --batch 1,64)
      T0=$(date +%s)
      SWAPPED=0
      if [ "${GPU_CHECK_NO_SWAP:-0}" != 1 ] && ! grep -q RESNODE_ADDON src/native.ts 2>/dev/null; then
        # The loader only knows build/Release: swap the CUDA addon in for this run.
        mkdir -p build/Release
        [ -f build/Release/resnode.node ] && cp build/Release/resnode.node "$BUILD/resnode.cpu.node.bak"
        cp build-cuda/Release/resnode.node build/Release/resnode.node && SWAPPED=1
      fi
      RESNODE_ADDON=$ROOT/build-cuda/Release/resnode.node timeout "$(budget 90)" "${BENCH_CMD[@]}" >"$LOGDIR/cli-bench.log" 2>&1
      BENCH_RC=$?
      if [ $SWAPPED = 1 ]; then
        if [ -f "$BUILD/resnode.cpu.node.bak" ]; then cp "$BUILD/resnode.cpu.node.bak" build/Release/resnode.node; else rm -f build/Release/resnode.node; fi
      fi
      if [ $BENCH_RC = 0 ]; then
        md ""
        md "### resnode bench resnet50 --backends cuda,native --batch 1,64 ($(( $(date +%s) - T0 )) s)"
        md '```'; tail -30 "$LOGDIR/cli-bench.log" >>"$MD"; md '```'
      else
        md ""
        md "- \`resnode bench resnet50 --backends cuda,native --batch 1,64\` did not complete (rc=$BENCH_RC); last lines:"
        md '```'; tail -8 "$LOGDIR/cli-bench.log" >>"$MD"; md '```'
      fi
    fi
  else
    fail "cmake-js build failed, see $LOGDIR/cmake-js.log"
    md '```'; tail -20 "$LOGDIR/cmake-js.log" >>"$MD"; md '```'
  fi
fi

# ---- 5. summary --------------------------------------------------------------------------------------
md ""
md "## Summary: ResNet-50, batch 64, images/s"
md ""
md "| | fp32 | tf32 |"
md "|---|---|---|"
md "| resnode CUDA (C++ bench, input on device) | ${OURS_FP32:-n/a} | ${OURS_TF32:-n/a} |"
md "| PyTorch + cuDNN | ${TORCH_FP32:-n/a} | ${TORCH_TF32:-n/a} |"
if [ -n "${OURS_TF32:-}" ] && [ -n "${TORCH_TF32:-}" ]; then
  RATIO=$(awk -v a="$OURS_TF32" -v b="$TORCH_TF32" 'BEGIN { printf "%.2f", a / b }')
  MET=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.5) ? "met" : "NOT met" }')
  md ""
  md "TF32 ratio resnode / PyTorch = **${RATIO}x** (target >= 0.5x: $MET)."
  [ "$MET" = met ] || say "throughput target not met (${RATIO}x)"
fi
finish

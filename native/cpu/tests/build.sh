#!/bin/sh
# Builds a CPU kernel harness with the same per-file ISA flags as binding.gyp.
# Usage (from the repository root):
#   sh native/cpu/tests/build.sh [output=/tmp/conv_test] [main=native/cpu/tests/conv_test.cc]
set -e
OUT=${1:-/tmp/conv_test}
MAIN=${2:-native/cpu/tests/conv_test.cc}
OBJ=$(mktemp -d)
CXX=${CXX:-g++}
FLAGS="-std=c++17 -O3 -DNDEBUG -fPIC -pthread"
for f in native/cpu/*.cc native/cpu/gemm/*.cc native/cpu/qgemm/*.cc native/cpu/igemm/*.cc native/cpu/reorder/*.cc native/cpu/winograd/*.cc native/cpu/dwconv/*.cc; do
  case "$f" in
    *__avx512f.cc) ISA="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma" ;;
    *__avx512bf16.cc) ISA="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16" ;;
    *__avx512vnni.cc) ISA="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni" ;;
    *__avx2.cc) ISA="-mavx2 -mfma" ;;
    *) ISA="" ;;
  esac
  $CXX $FLAGS $ISA -c "$f" -o "$OBJ/$(echo "$f" | tr / _).o" &
  # at most two compiles at a time (shared 2-core machine)
  [ "$(jobs -p | wc -l)" -ge 2 ] && wait -n 2>/dev/null || true
done
wait
$CXX $FLAGS -Inative/cpu "$MAIN" "$OBJ"/*.o -o "$OUT"
rm -rf "$OBJ"
echo "built $OUT"

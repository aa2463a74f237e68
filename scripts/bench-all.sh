#!/usr/bin/env bash
# The benchmark runs behind the figures in bench/results/ (not part of npm test).
# Run on a quiet machine: every figure is a ratio taken side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
{
  echo '# Kernel benchmark: ResNet-50 conv shapes, batch 1'
  echo
  echo '```'
  npx tsx bench/kernels.ts --threads 2
  echo '```'
} > bench/results/kernels.md
npx tsx src/cli.ts bench resnet50 --backends native,js,ort --batch 1 --threads 2 --mode exact,fast --layers --out bench/results
npx tsx src/cli.ts bench resnet18 --backends native,js,ort --batch 1 --threads 2 --mode exact,fast --layers --out bench/results
npx tsx src/cli.ts bench resnet50 --backends native,ort --batch 8 --threads 2 --mode exact,fast --repeats 10 --out bench/results

#!/usr/bin/env bash
# Where flex's training time goes: `perf record` of `cnnvar train` on each write-up model,
# with 1 and 2 threads, and the top symbols by self time (bench/results/README.md).
#
#   bash bench/profile_flex.sh BINARY OUT_DIR [DATA_DIR]
#
# BINARY: a cnnvar built with flex and debug line tables (`cargo build --release -p
# cnnvar-cli` gives both). Needs `perf` (linux-perf). Writes OUT_DIR/MODEL-THREADS.{data,log,top}.
set -euo pipefail
bin=$1
out=$2
data=${3:-/usr/share/datasets/fashion-mnist}
mkdir -p "$out"
# model:training examples:epochs, sized so that each profile takes 10-20 s.
for run in simple:12800:2 two-conv:4096:1 complex:2048:1; do
  IFS=: read -r model n epochs <<< "$run"
  for threads in 1 2; do
    name="$out/$model-$threads"
    perf record -F 499 -g -o "$name.data" -- "$bin" train --backend flex --model "$model" \
      --train-size "$n" --epochs "$epochs" --threads "$threads" --data-dir "$data" \
      --eval-subset 500 --test-size 2000 > "$name.log" 2>&1
    perf report -i "$name.data" --no-children --sort symbol --stdio 2>/dev/null \
      | grep -E '^ +[0-9]' | head -25 > "$name.top" || true
  done
done

#!/usr/bin/env bash
# The GPU check (issue 18): one script, one file of figures; its parts' time limits add up to under 8 minutes.
#
#   bash benchmarks/gpu_check.sh                  # on the GPU machine: figures in $OUT/gpu_check.txt (default runs/gpu_check/)
#   bash benchmarks/gpu_check.sh --cpu-dry-run    # every part on the CPU, a few steps each: checks the script itself
#
# Parts, each under its own time limit (a part that fails or runs out of time is reported and the next one runs):
#   tests          tests/test_gpu.py on the device (tiny runs in fp32 and bf16, HAM's batched scoring, evaluation dtype, slots)
#   agreement      the same checkpoint scored on the CPU and on the device, within a stated tolerance
#   throughput     samples/s per strategy: ours fp32 and bf16 against the plain PyTorch reference (width 64)
#   concurrency    aggregate samples/s and peak memory of 1, 2, 4, 8 and 16 concurrent runs on one GPU
#   variants       torch.compile, CUDA graphs, several models packed into one (vmap): a prototype to decide on
#   projection     GPU-hours of the 1,344-configuration grid x 3 seeds at the paper budget
# On the device machine (Python 3.12, torch preinstalled, no network) the missing packages come from .whl/, made here
# by benchmarks/gpu_wheels.sh and carried with the run (carry [".whl"]).
set -uo pipefail
cd "$(dirname "$0")/.."
DEVICE=cuda QUICK= CONC="1 2 4 8 16" W=64
if [ "${1:-}" = --cpu-dry-run ]; then DEVICE=cpu QUICK=--quick CONC="1 2" W=16; shift; fi
if [ $# -gt 0 ]; then echo "usage: bash benchmarks/gpu_check.sh [--cpu-dry-run]" >&2; exit 2; fi
OUTDIR=${OUT:-runs/gpu_check}; mkdir -p "$OUTDIR"; LOG="$OUTDIR/gpu_check.txt"; : > "$LOG"
PY=python3; [ -x .venv/bin/python ] && PY=.venv/bin/python

if [ "$DEVICE" = cuda ] && ! $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)" 2>/dev/null; then
  echo "gpu_check: no CUDA GPU is visible to $PY (torch.cuda.is_available() is False, or torch is missing)." >&2
  echo "gpu_check: it measures the GPU path and needs a GPU; 'bash benchmarks/gpu_check.sh --cpu-dry-run' checks every part on the CPU." >&2
  exit 2
fi
if ! $PY -c "import imbalance_study, fastai, papermill" 2>/dev/null; then   # the device machine: install from the carried wheels
  [ -d .whl ] || { echo "gpu_check: imbalance_study is not importable and there is no .whl/ (run benchmarks/gpu_wheels.sh here and carry .whl)" >&2; exit 2; }
  $PY -m pip install -q --no-index --find-links .whl --no-deps -r benchmarks/gpu_requirements.txt 2>&1 | tail -3
  $PY -m pip install -q --no-index --no-deps --no-build-isolation -e . 2>&1 | tail -3
  $PY -m ipykernel install --user --name python3 >/dev/null 2>&1 || true
fi

T0=$(date +%s)
part() {   # part NAME LIMIT_S COMMAND...
  local name=$1 limit=$2; shift 2
  echo "=== $name (limit ${limit}s): $*" | tee -a "$LOG"
  local t=$(date +%s)
  timeout --signal=INT --kill-after=10 "$limit" "$@" 2>&1 | grep -v "Warning\|warn(" | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: $( [ $rc -eq 0 ] && echo ok || ([ $rc -eq 124 ] && echo TIMED OUT || echo "FAILED (exit $rc)") ), $(( $(date +%s) - t ))s" | tee -a "$LOG"
}
{ echo "# gpu_check $( [ -n "$QUICK" ] && echo '--cpu-dry-run (figures mean nothing)' ), device $DEVICE, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null)"
  $PY -c "import torch; print('torch', torch.__version__, '|', torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"; } | tee -a "$LOG"
part tests 80 env IMBALANCE_STUDY_TEST_DEVICE=$DEVICE $PY -m pytest -q -p no:cacheprovider tests/test_gpu.py
part agreement 45 $PY benchmarks/gpu_agreement.py --device $DEVICE --out "$OUTDIR/agreement.json"
part throughput 130 $PY benchmarks/throughput.py --device $DEVICE --width $W --steps 40 --repeats 2 --no-memory --no-projection --out "$OUTDIR/throughput.json" $QUICK
part concurrency 100 $PY benchmarks/throughput.py --device $DEVICE --width $W --steps 60 --repeats 1 --variants baseline --precisions bf16 \
     --concurrent $CONC --no-startup --no-projection --no-memory --out "$OUTDIR/concurrency.json" $QUICK
part variants 90 $PY benchmarks/gpu_variants.py --device $DEVICE --out "$OUTDIR/variants.json" $QUICK
part projection 15 $PY benchmarks/gpu_projection.py "$OUTDIR/throughput.json" "$OUTDIR/concurrency.json"
echo "# gpu_check finished in $(( $(date +%s) - T0 ))s; figures in $LOG" | tee -a "$LOG"

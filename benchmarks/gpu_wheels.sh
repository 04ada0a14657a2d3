#!/usr/bin/env bash
# Wheels for the GPU machine (Python 3.12, x86-64, no network there): every package of benchmarks/gpu_requirements.txt
# as a py3.12 wheel in .whl/ (git-ignored; carry it to the device run with carry=[".whl"]). Pure-Python packages
# published only as source are built into wheels here with Python 3.12.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
PY312=${PY312:-python3.12}   # any Python 3.12, e.g. PY312=/root/.pyenv/versions/3.12.1/bin/python3.12
grep -v '^#' benchmarks/gpu_requirements.txt | while read -r req; do
  [ -z "$req" ] && continue
  if ! python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
       --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
       -d .whl "$req" 2>/dev/null; then
    echo "no py3.12 wheel for $req on the index: building one with $PY312"
    "$PY312" -m pip wheel -q --no-deps -w .whl "$req"
  fi
done
echo "wheels in .whl/: $(ls .whl | wc -l) files, $(du -sh .whl | cut -f1)"

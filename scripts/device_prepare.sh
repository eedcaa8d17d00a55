#!/usr/bin/env bash
# Run HERE (not on the GPU machine) before scripts/device_bench.sh: stages into .device/ (kept out of git through
# .git/info/exclude) what the GPU machine's own Python lacks: Fashion-MNIST's four IDX files and the wheels of
# the packages weakneg imports beyond that image (SQLAlchemy, alembic, Mako, soundfile, cffi, pycparser,
# scikit-activeml, makefun), for CPython 3.12 on x86-64. About 35 MB: inside the 64 MiB a device call carries.
set -euo pipefail
cd "$(dirname "$0")/.."
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")" && touch "$exclude"
grep -qx '/.device/' "$exclude" || echo '/.device/' >> "$exclude"
mkdir -p .device/data/FashionMNIST/raw .device/whl
cp /usr/share/datasets/fashion-mnist/*-ubyte.gz .device/data/FashionMNIST/raw/
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux_2_27_x86_64 --platform manylinux1_x86_64 -d .device/whl \
  SQLAlchemy==2.1.9 alembic==1.20.1 Mako==1.4.3 soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 \
  scikit-activeml==1.0.1 makefun==1.16.0
du -sh .device

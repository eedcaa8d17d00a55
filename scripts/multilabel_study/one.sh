#!/bin/bash
# One run of the multi-label study (issue 22's show): DATASET KIND SAMPLER SEED TARGET EXTRA...
# KIND: ml (one model for TARGET=all) or one (TARGET: a class `c`, or `c,` for one class in a multi-label model).
# Each run is a fresh `python -m weakneg run --json` on one thread under nice 5, timed by /usr/bin/time into
# $STUDY_DIR/times.log (CPU seconds: robust to a shared machine), its summary in $STUDY_DIR/out/.
# Run from a `git archive` copy, never the live tree:  xargs -P 2 -L1 scripts/multilabel_study/one.sh < JOBS
dataset=$1 kind=$2 sampler=$3 seed=$4 target=$5; shift 5
STUDY_DIR=${STUDY_DIR:-$HOME/weakneg-study}; PY=${PY:-.venv/bin/python}
mkdir -p "$STUDY_DIR/out"
export WEAKNEG_HOME=$STUDY_DIR/home-$dataset WEAKNEG_THREADS=1
tag="$dataset $kind $sampler $seed $target"
out=$STUDY_DIR/out/$(echo "$tag" | tr ' ,' '__').json
/usr/bin/time -f "TIME $tag wall %e user %U sys %S" -a -o "$STUDY_DIR/times.log" \
  nice -n 5 "$PY" -m weakneg run --dataset "$dataset" --target-class "$target" --sampler "$sampler" --seed "$seed" "$@" --json > "$out" 2> "$out.err"
echo "DONE $tag rc $? $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" >> "$STUDY_DIR/times.log"

"""Job lines for issue 22's show: per seed and sampler one all-class run and one run per class (binary `c` for
random and badge, one-class multi-label `c,` for adaptive_multilabel, a multi-label sampler). The session's show:
  python scripts/multilabel_study/jobs.py fashion_mnist 10 \
      "--max-instances 20000 --bag-size 2 --epochs 10 --pn-ratio 0.5"
  python scripts/multilabel_study/jobs.py soundscapes 13 "--epochs 10 --pn-ratio 0.5"
then feed the lines to one.sh (xargs -P 2 -L1) and read the result with analyse.py. The longer multi-label run
the soundscapes show called for (its one-class runs at 10 epochs stay the reference):
  STUDY_DIR=... scripts/multilabel_study/one.sh soundscapes ml random 0 all --epochs 30 --pn-ratio 0.5"""

import sys

dataset, classes, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for seed in (0, 1, 2):
    for sampler in ("random", "badge", "adaptive_multilabel"):
        one = "{c}," if sampler == "adaptive_multilabel" else "{c}"
        print(f"{dataset} ml {sampler} {seed} all {extra}")
        for c in range(classes):
            print(f"{dataset} one {sampler} {seed} {one.format(c=c)} {extra}")

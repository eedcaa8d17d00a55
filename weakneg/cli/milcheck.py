"""`python -m weakneg milcheck`: does a bag head respect the MIL assumption?"""

from __future__ import annotations

import argparse
import json

from . import names
from .common import Command, add_choice, add_json_argument, listing, parse_pairs
from .format import json_safe, table

ALL_HEADS = "all"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..milcheck import CheckSettings

    d = CheckSettings()
    p.add_argument(
        "--head",
        default=d.head,
        metavar="NAME",  # checked by CheckSettings.validate, in the words of every other head error
        help=f"the aggregation head to check: {listing(names.HEADS)}, or '{ALL_HEADS}' for every head",
    )
    add_choice(
        p, "--model", "model", names.MODELS, "instance encoder for feature vectors (mlp or mil_mlp)", default=d.model
    )
    add_choice(
        p, "--sampler", "sampler", names.SAMPLERS, "negative sampler used while training: {names}", default=d.sampler
    )
    p.add_argument(
        "--sampler-param", action="append", default=[], metavar="KEY=VALUE", help="a sampler parameter (repeatable)"
    )
    p.add_argument("--seed", type=int, default=d.seed, help="seeds the worlds, the weights and the sampler")
    p.add_argument("--epochs", type=int, default=d.epochs, help="training epochs per check")
    p.add_argument(
        "--test",
        action="append",
        choices=names.MIL_TESTS,
        default=None,
        help="run only this test (repeatable); default: all three",
    )
    add_json_argument(p)


def cmd_milcheck(args: argparse.Namespace) -> int:
    from ..milcheck import TESTS, CheckSettings, format_cell, keep_result, overall, run_checks
    from ..models import HEADS

    heads = list(HEADS) if args.head == ALL_HEADS else [args.head]
    settings = [
        CheckSettings(
            head=head,
            model=args.model,
            sampler=args.sampler,
            sampler_params=parse_pairs(args.sampler_param),
            seed=args.seed,
            epochs=args.epochs,
        ).validate()
        for head in heads
    ]  # every input error before training
    results = {s.head: run_checks(s, args.test) for s in settings}
    if not args.test:  # complete results also serve the app's read-only demo without training again
        for s in settings:
            keep_result(s, results[s.head])
    if args.json:
        print(json.dumps(json_safe({"sampler": args.sampler, "seed": args.seed, "heads": results})))
        return 0
    print(f"MIL assumption checks: model {args.model}, sampler {args.sampler}, seed {args.seed}, {args.epochs} epochs")
    for head, result in results.items():
        print(f"\n{head}: {overall(result['tests'])}")
        rows = [
            {
                "test": t["test"],
                "train_auc": t["train_auc"],
                "clean_auc": t["clean_auc"],
                "test_auc": t["test_auc"],
                "drop": t["drop"],
                "tolerance": t["tolerance"],
                "verdict": t["verdict"],
            }
            for t in result["tests"]
        ]
        print(table(rows, list(rows[0])))
        for t in result["tests"]:
            print(f"  {t['test']}: {t['explanation']}")
    if len(results) > 1:
        print("\nverdicts (train AUC -> test AUC):")
        rows = [
            {
                "test": name,
                **{head: format_cell(t) for head, r in results.items() for t in r["tests"] if t["test"] == name},
            }
            for name in (args.test or TESTS)
        ]
        print(table(rows, ["test", *results]))
    return 0


COMMANDS = [
    Command(
        "milcheck",
        "check whether a head respects the multiple-instance assumption (Raff & Holt 2023 algorithmic unit tests)",
        add_arguments,
        cmd_milcheck,
    )
]

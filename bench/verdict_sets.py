"""What each training set adds to the verdict model, judged on held-out claims of one set.

    python bench/verdict_sets.py --target NEWS.json --add CF.json SEED.json

Each file is a ``factcheck fit-verdict SET --claims FILE`` cache of one labelled set (its
claims' judged passages and gold verdicts), for example::

    factcheck fit-verdict "tests/data/news_suite:train" --claims news.json --out /tmp/a.json
    factcheck fit-verdict ../shared/data/eval/climate-fever-train.jsonl --claims cf.json ...

The target set's claims are cross-validated (5 folds, drawn ``--repeats`` times, as
``fit-verdict`` does) with the other sets' claims in every training fold and never held
out, at ``fit-verdict``'s relevance floors and L2 strengths. For each mix it prints the
best held-out log-loss on the target set and, at that floor and L2, the target's accuracy
and false supports at each support floor. The verdict model should be fitted on the
mix that serves the target (the service judges news) best.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import msgspec
from common import machine, table

from service.judge.calibrate import FLOORS, L2S, REPEATS, Labelled, cross_validated
from service.judge.verdict import VERDICTS, choose

SHOWN_FLOORS = (0.0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8)


def load(path: str) -> Labelled:
    """One ``--claims`` cache."""
    return msgspec.json.decode(Path(path).read_bytes(), type=Labelled)


def merged(parts: list[Labelled]) -> Labelled:
    """Several sets' claims as one training addition."""
    return Labelled(
        sets=[s for p in parts for s in p.sets],
        claims=[c for p in parts for c in p.claims],
        gold=[g for p in parts for g in p.gold],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True, help="claims cache of the set judged")
    ap.add_argument("--add", nargs="+", default=[], help="claims caches of the other sets")
    ap.add_argument("--repeats", type=int, default=REPEATS)
    args = ap.parse_args()
    print(machine())
    target = load(args.target)
    adds = {path: load(path) for path in args.add}
    rows = []
    for n in range(len(adds) + 1):
        for chosen in itertools.combinations(adds, n):
            extra = merged([adds[p] for p in chosen])
            runs = {
                (floor, l2): cross_validated(
                    target.claims, target.gold, floor, l2, repeats=args.repeats, always=extra
                )
                for floor in FLOORS
                for l2 in L2S
            }
            best = min(runs, key=lambda key: runs[key][0])
            loss, held_out = runs[best]
            cells = []
            for support_floor in SHOWN_FLOORS:
                said = [
                    choose(dict(zip(VERDICTS, map(float, row), strict=True)), support_floor)
                    for row in held_out
                ]
                right = sum(s == g for s, g in zip(said, target.gold, strict=True))
                wrong_support = sum(
                    s == "supported" != g for s, g in zip(said, target.gold, strict=True)
                )
                cells.append(f"{right / len(said):.3f} ({wrong_support})")
            mix = " + ".join([*target.sets, *extra.sets])
            rows.append([mix, f"{best[0]:.2f} / {best[1]:g}", f"{loss:.4f}", *cells])
            print(" | ".join(rows[-1]), flush=True)
    print()
    headers = ["fitted on", "floor / L2", "held-out log-loss"]
    print(table([*headers, *(f"acc (FS) at {f:g}" for f in SHOWN_FLOORS)], rows))


if __name__ == "__main__":
    main()

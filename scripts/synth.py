"""Synthetic submissions and bad inputs (合成数据与问题文件).

Usage:
  python scripts/synth.py generate --dest DIR [--departments N] [--projects M]
                                   [--indicators K] [--payments P] [--seed S] [--broken B]
  python scripts/synth.py bad --dest DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jixiao.samples.bad_inputs import EXPECTED_REASON, write_all
from jixiao.samples.synth import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthetic workbooks (合成数据).")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="seeded synthetic submissions in every layout")
    gen.add_argument("--dest", type=Path, required=True)
    gen.add_argument("--departments", type=int, default=3)
    gen.add_argument("--projects", type=int, default=4, help="projects per department")
    gen.add_argument("--indicators", type=int, default=8, help="indicators per project")
    gen.add_argument("--payments", type=int, default=12, help="payments per project")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--broken", type=int, default=0, help="deliberately broken files")
    bad = sub.add_parser("bad", help="one file per bad-input class")
    bad.add_argument("--dest", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "generate":
        paths = generate(
            args.dest,
            departments=args.departments,
            projects_per_department=args.projects,
            indicators_per_project=args.indicators,
            payments_per_project=args.payments,
            seed=args.seed,
            broken=args.broken,
        )
        for path in paths:
            print(path)
    else:
        for kind, path in write_all(args.dest).items():
            print(f"{kind}\t{EXPECTED_REASON[kind] or 'row-level'}\t{path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

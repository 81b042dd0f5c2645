"""Build the checksum corpora and compare their marts with the golden file, or rewrite it
(集市校验和基准).

Usage: python scripts/mart_checksums.py [--update] [--corpus demo|variants] [--workdir DIR]

Builds the ``demo`` corpus (the demo inbox through one night) and the ``variants`` corpus
(every layout variant in one warehouse), see :mod:`jixiao.warehouse.checksums`, checksums
every marts table of each and compares with ``tests/golden/mart_checksums.json``; exit 1 when
they differ. ``--update`` rewrites the golden file instead (only the corpora built: with
``--corpus``, the other corpus keeps its entries). Run it when a change of the marts is
intended, and commit the golden file with the change.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# the inbox workbooks are written a moment before they are loaded (as in tests/conftest.py)
os.environ.setdefault("JIXIAO_STABLE_SECONDS", "0.1")

CORPORA = ("demo", "variants")


def main(argv: list[str] | None = None) -> int:
    from jixiao.warehouse import checksums as C

    parser = argparse.ArgumentParser(description="Mart checksums against the golden file.")
    parser.add_argument("--update", action="store_true", help="rewrite the golden file")
    parser.add_argument("--corpus", choices=CORPORA, action="append", help="default: both")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the builds here")
    parser.add_argument("--golden", type=Path, default=C.GOLDEN_FILE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    corpora = tuple(args.corpus or CORPORA)
    builders = {"demo": C.build_demo, "variants": C.build_variant_corpus}

    with tempfile.TemporaryDirectory(prefix="mart_checksums_") as tmp:
        work = args.workdir or Path(tmp)
        got: dict[str, dict[str, C.TableChecksum]] = {}
        for corpus in corpora:
            started = time.monotonic()
            s = builders[corpus](work / corpus / "home")
            got[corpus] = C.mart_checksums(s.warehouse, s)
            print(
                f"{corpus}: {len(got[corpus])} mart tables, "
                f"built and checksummed in {time.monotonic() - started:.0f} s",
                file=sys.stderr,
            )

    golden = C.read_golden(args.golden) if args.golden.exists() else {}
    if args.update:
        C.write_golden({**golden, **got}, args.golden)
        print(f"wrote {args.golden}", file=sys.stderr)
        return 0
    problems = [
        p for corpus in corpora for p in C.compare(corpus, golden.get(corpus, {}), got[corpus])
    ]
    for line in problems:
        print(line)
    if problems:
        print(f"marts differ from {args.golden}; if intended: {C.REGENERATE}", file=sys.stderr)
        return 1
    print("marts identical to the golden file / 集市与基准一致", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

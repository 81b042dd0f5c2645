"""Write the demo inbox (演示报送文件) built from the seed documents' figures.

Usage: python scripts/make_samples.py [--dest DIR]   (default: $JIXIAO_HOME/inbox)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jixiao.config import get_settings
from jixiao.samples.demo import build_demo_inbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the demo inbox (演示数据).")
    parser.add_argument(
        "--dest", type=Path, default=None, help="target folder (default: $JIXIAO_HOME/inbox)"
    )
    args = parser.parse_args(argv)
    dest = args.dest or get_settings().inbox
    for path in build_demo_inbox(dest):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The `netlens` command: the lessons' experiments headless, as JSON, plus the benchmark and the app."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from core.runtime import configure_torch

ROOT = Path(__file__).resolve().parent.parent


def _shortcut(args: argparse.Namespace) -> int:
    from core.shortcut import ShortcutConfig, run

    config = ShortcutConfig(grass_rate=args.grass, seed=args.seed, num_train=args.pictures, extra_pictures=args.extra)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()] or _methods()
    result = run(config, methods=methods)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"ordinary pictures right: {result['ordinary_accuracy']:.1%}")
    print(f"surprise pictures right: {result['surprise_accuracy']:.1%}")
    swap = result["counterfactual"]
    print(f"swapping the background moves its confidence by {100 * swap['reliance']:.1f} points on average "
          f"({swap['flipped']:.0%} of answers flip)")
    for key, item in result["evidence"].items():
        verdict = "agrees" if item["agrees_with_swap"] else "DISAGREES"
        print(f"  {key:12s} grass gets {item['grass_share']:.0%} of the evidence (grass is {item['grass_area']:.0%} of the picture): {verdict}")
    print(f"training took {result['training_seconds']:.1f} s")
    return 0


def _methods() -> list[str]:
    from core.explain import METHODS

    return list(METHODS)


def _bench(args: argparse.Namespace) -> int:
    from core.bench import run_benchmarks

    result = run_benchmarks(repeats=args.repeats)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def _app(args: argparse.Namespace) -> int:
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(args.port)]
    if args.headless:
        command += ["--server.headless", "true"]
    return subprocess.call(command, cwd=ROOT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netlens", description="NetLens: see what a neural network is doing.")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: NETLENS_THREADS or 2)")
    commands = parser.add_subparsers(dest="command", required=True)

    shortcut = commands.add_parser("shortcut", help="bunnies and grass: train, test on surprise pictures, explain")
    shortcut.add_argument("--grass", type=float, default=1.0, help="how often bunnies are on grass, 0..1 (default 1.0)")
    shortcut.add_argument("--seed", type=int, default=0)
    shortcut.add_argument("--pictures", type=int, default=2000, help="training pictures (default 2000)")
    shortcut.add_argument("--extra", type=int, default=0, help="extra pictures that break the grass pattern")
    shortcut.add_argument("--methods", default="", help="comma-separated attribution methods (default: all)")
    shortcut.add_argument("--json", action="store_true", help="print JSON")
    shortcut.set_defaults(run=_shortcut)

    bench = commands.add_parser("bench", help="measure the performance budgets in DESIGN.md")
    bench.add_argument("--repeats", type=int, default=5)
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(run=_bench)

    app = commands.add_parser("app", help="start the dashboard")
    app.add_argument("--port", type=int, default=8501)
    app.add_argument("--headless", action="store_true", help="do not open a browser")
    app.set_defaults(run=_app)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        configure_torch(args.threads)
        return args.run(args)
    except ValueError as error:  # bad settings: one clear line, no traceback
        print(f"netlens: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader (e.g. `| head`) stopped listening: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

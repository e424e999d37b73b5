"""The `netlens` command: every lesson headless (`netlens <id>`, generated from the syllabus), photo
explanations, the benchmark and the app."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import typing
from pathlib import Path

from core.runtime import configure_torch

ROOT = Path(__file__).resolve().parent.parent
ALIASES: dict[str, tuple[str, ...]] = {"bunnies": ("shortcut",)}  # older command names that keep working


def _lesson_command(args: argparse.Namespace) -> int:
    """`netlens <lesson id> [settings as flags] [--json]`: the lesson's run, headless, as JSON or plain lines."""
    from core.lesson import settings_from_flags
    from core.lessons import lesson

    chosen = lesson(args.lesson)
    settings = settings_from_flags(chosen.settings, args)
    report = chosen.report(chosen.run(settings, None))
    if args.json or chosen.summary is None:
        print(json.dumps(report, indent=2))
    else:
        print(chosen.summary(report))
    return 0


def _lessons(args: argparse.Namespace) -> int:
    """`netlens lessons`: the syllabus, with each lesson's command."""
    from core.lesson import Lesson
    from core.lessons import SYLLABUS

    rows = [{"number": number, "id": entry.id if isinstance(entry, Lesson) else None, "title": entry.title,
             "idea": entry.idea, "command": f"netlens {entry.id}" if isinstance(entry, Lesson) else None,
             "steps": list(entry.steps) if isinstance(entry, Lesson) else []}
            for number, entry in enumerate(SYLLABUS, start=1)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        command = row["command"] or "(being written)"
        print(f"{row['number']:2d}. {row['title']} — {row['idea']}\n      {command}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from core.lessons.photo.explain_file import check_explain_settings, explain_file

    check_explain_settings(args.method, args.opacity, args.out)
    result = explain_file(args.photo, args.method, args.target, args.out, args.opacity, args.seed, args.trust)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print("the network's top 5:")
    for item in result["predictions"]:
        print(f"  {item['probability']:6.1%}  {item['label']} (class {item['index']})")
    target = result["target"]
    print(f"explained: {target['label']} (class {target['index']}, ranked {target['rank']}, "
          f"{target['probability']:.1%}) with {result['method']}")
    print(f"overlay written to {result['out']}" if result["out"] else "no overlay written (add --out overlay.png)")
    seconds = result["seconds"]
    print(f"took {seconds['predict']:.2f} s to classify, {seconds['map']:.2f} s for the map")
    if "deletion" in result:
        check = result["deletion"]
        verdict = "passed" if check["passes"] else "FAILED"
        speed = "faster" if check["passes"] else "no faster"
        print(f"deletion check: {verdict}. Blurring what the map marks first lowers the log-odds {speed} than "
              f"blurring its least important patches first or random ones (average log-odds "
              f"{check['most_first_area']:.2f} vs {check['least_first_area']:.2f} and {check['random_area']:.2f}).")
        scrambled = result["randomisation"]
        final = scrambled["similarity"][-1]
        if scrambled["passes"]:
            print(f"randomisation check: passed. The map changes when the network is scrambled "
                  f"(similarity to the original {final:.2f}), so it depends on what the network learned.")
        else:
            print(f"randomisation check: FAILED. The map stays alike on a scrambled network (similarity {final:.2f}), "
                  "so it shows the picture more than the network's reasoning.")
        print(f"the checks took {seconds['trust']:.1f} s")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from core.bench import run_benchmarks

    only = [part.strip() for part in args.only.split(",") if part.strip()] if args.only else None
    result = run_benchmarks(repeats=args.repeats, only=only)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def _numbers(text: str, kind: type) -> list:
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated numbers, got {text!r}") from None


def _stderr_progress(progress) -> None:  # type: ignore[no-untyped-def]
    """A one-line progress bar on stderr (stdout stays clean for --json)."""
    filled = int(24 * progress.fraction)
    end = "\n" if progress.fraction >= 1 else ""
    print(f"\r[{'#' * filled}{'.' * (24 - filled)}] {progress.text}\033[K", end=end, file=sys.stderr, flush=True)


def _truth(args: argparse.Namespace) -> int:
    from core.lessons.bunnies.truth import sweep, table_text, truth_table
    from core.lessons.photo.truth import photo_truth, photo_text

    rates, seeds = _numbers(args.rates, float), _numbers(args.seeds, int)
    if len(rates) * len(seeds) < 3:
        raise ValueError("the sweep needs at least 3 networks (rates × seeds)")
    if any(not 0 <= rate <= 1 for rate in rates) or any(seed < 0 for seed in seeds):
        raise ValueError("grass rates go from 0 to 1 and seeds from 0")
    result = {"bunnies": truth_table(sweep(rates, seeds, on_progress=_stderr_progress))}
    if not args.no_photos:
        result["photos"] = photo_truth(on_progress=_stderr_progress)
        if args.write_verdicts:
            from core.lesson import ASSETS
            from core.lessons.photo.truth import VERDICTS_FILE

            (ASSETS / "lessons" / "photo" / VERDICTS_FILE).write_text(json.dumps(result["photos"], indent=1) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(table_text(result["bunnies"]))
        if "photos" in result:
            print(photo_text(result["photos"]))
    return 0


def _prepare(args: argparse.Namespace) -> int:
    """`netlens prepare <lesson> [--seed S] [--limit N]`: every reachable setting into the on-disk cache."""
    from core.diskcache import content_version, open_cache
    from core.lessons import lesson
    from core.prepare import missing, prepare
    from core.store import Cache

    chosen = lesson(args.lesson)
    if args.seed < 0:
        raise ValueError("the seed is zero or more")
    disk = open_cache()
    if disk is None:
        raise ValueError("the result cache is off (NETLENS_CACHE=off): there is nowhere to prepare into")
    cache = Cache(disk=disk, version=content_version())
    todo, total = missing(chosen, args.seed, cache)
    limit = total if args.limit is None else min(args.limit, total)
    print(f"{chosen.title}, seed {args.seed}: {total} settings the page can reach, {todo} still to compute"
          + (f" (preparing the first {limit})" if limit < total else ""), file=sys.stderr)

    def estimate(seconds: float) -> None:
        if seconds > 0:
            left = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
            print(f"\r\033[Kabout {left} left on this machine", file=sys.stderr)

    result = prepare(chosen, args.seed, cache, _stderr_progress, limit=limit, on_estimate=estimate)
    report = {"lesson": result.lesson, "seed": result.seed, "settings": result.settings, "computed": result.made,
              "already_cached": result.found, "seconds": round(result.seconds, 1), "cache": str(getattr(disk, "root", None) or getattr(disk, "url", "redis"))}
    print(json.dumps(report, indent=2) if args.json else
          f"prepared {result.settings} settings in {result.seconds:.0f} s: {result.made} results computed, "
          f"{result.found} already in the cache ({report['cache']})")
    return 0


def _app(args: argparse.Namespace) -> int:
    import os

    from core.runtime import SERVER_ENV

    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(args.port)]
    if args.headless:
        command += ["--server.headless", "true"]
    if args.address:
        command += ["--server.address", args.address]
    import threading

    from core.load import warm_when_up

    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **SERVER_ENV})
    host = "127.0.0.1" if args.address in (None, "", "0.0.0.0", "::") else args.address
    # As soon as it answers, its first visit is ours: every lesson and lazy module imported once, before the class.
    threading.Thread(target=warm_when_up, args=(f"http://{host}:{args.port}", process), daemon=True).start()
    try:
        return process.wait()
    except KeyboardInterrupt:  # Ctrl+C reached the server too: let it finish stopping
        return process.wait()


class _Parser(argparse.ArgumentParser):
    """Bad flags get one line (and exit code 2), like bad settings: no usage dump."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"netlens: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The commands: one per lesson (flags generated from its settings dataclass), plus lessons, explain, bench,
    truth and app. `shortcut` is the flagship lesson's older name."""
    from core.lesson import add_setting_flags
    from core.lessons import LESSONS

    parser = _Parser(prog="netlens", description="NetLens: see what a neural network is doing.")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: NETLENS_THREADS or 2)")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("lessons", help="list the lessons in teaching order, with their commands")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=_lessons)

    for lesson in LESSONS.values():
        names = [lesson.id, *ALIASES.get(lesson.id, ())]
        for name in names:
            command = commands.add_parser(name, help=f"lesson: {lesson.title} — {lesson.idea}"
                                          + ("" if name == lesson.id else f" (same as `netlens {lesson.id}`)"))
            add_setting_flags(command, lesson.settings)
            command.add_argument("--json", action="store_true", help="print JSON")
            command.set_defaults(run=_lesson_command, lesson=lesson.id)

    explain = commands.add_parser("explain", help="classify a photo and explain one class (top-5, map, overlay PNG)")
    explain.add_argument("photo", type=Path, help="a JPEG, PNG, GIF, WebP, BMP or TIFF file")
    explain.add_argument("--method", default="gradcam", help="attribution method (default gradcam)")
    explain.add_argument("--target", default="top1", help="class to explain: top1..top5, a class number or exact name")
    explain.add_argument("--out", type=Path, default=None, help="write the map over the photo to this PNG")
    explain.add_argument("--opacity", type=float, default=0.75, help="how strongly the map covers the photo, 0..1")
    explain.add_argument("--seed", type=int, default=0, help="for the methods that draw random numbers")
    explain.add_argument("--trust", action="store_true", help="also run the deletion and randomisation checks")
    explain.add_argument("--json", action="store_true", help="print JSON")
    explain.set_defaults(run=_explain)

    bench = commands.add_parser("bench", help="measure the performance budgets in DESIGN.md")
    bench.add_argument("--repeats", type=int, default=5)
    bench.add_argument("--only", default="", help="comma-separated lesson ids to measure (default: all)")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(run=_bench)

    truth = commands.add_parser("truth", help="measure whether the maps tell the truth: the bunny sweep against the "
                                "background swap, and the trust checks on the sample photos (a few minutes)")
    truth.add_argument("--rates", default="0.5,0.8,0.9,0.95,0.97,0.99,1.0", help="grass rates of the sweep")
    truth.add_argument("--seeds", default="0,1,2", help="seeds of the sweep")
    truth.add_argument("--no-photos", action="store_true", help="skip the photo trust checks")
    truth.add_argument("--write-verdicts", action="store_true",
                       help="also write the photo checks to assets/lessons/photo/verdicts.json (the page shows them)")
    truth.add_argument("--json", action="store_true", help="print JSON")
    truth.set_defaults(run=_truth)

    prepare = commands.add_parser("prepare", help="compute every setting a lesson's page can reach at one seed into "
                                                  "the on-disk cache, so a class's links are answered at once")
    prepare.add_argument("lesson", help="the lesson's id (netlens lessons lists them)")
    prepare.add_argument("--seed", type=int, default=0, help="the seed the class will use (default 0)")
    prepare.add_argument("--limit", type=int, default=None, help="prepare only the first N settings (the page's "
                                                                  "default first)")
    prepare.add_argument("--json", action="store_true", help="print the result as JSON")
    prepare.set_defaults(run=_prepare)
    from core.load import add_load_command
    from core.school import add_school_command

    add_load_command(commands)  # netlens load --students N --scenario same|own|mixed|abandon
    add_school_command(commands)  # netlens nginx-config, netlens school
    app = commands.add_parser("app", help="start the dashboard")
    app.add_argument("--port", type=int, default=8501)
    app.add_argument("--headless", action="store_true", help="do not open a browser")
    app.add_argument("--address", default=None, help="the address to listen on (e.g. 0.0.0.0 for a school's "
                                                      "network; default: Streamlit's)")
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

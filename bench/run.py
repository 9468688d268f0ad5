"""The exchange's benchmarks, on the data set `seed_demo` builds (see README, "Benchmarks").

    make bench            # seed_demo --scale 100: 1,000,000 accepted orders, 385,900 products
    make bench QUICK=1    # the same benchmarks on --scale 1 (10,000 orders), a few minutes

It creates its own database (`exchange_bench` on the server DATABASE_URL names,
or BENCH_DATABASE_URL exactly; never the database DATABASE_URL names), migrates
it, seeds it with `seed_demo --trading day`, then runs every registered
benchmark in order and writes bench/results/<name>.json for each, and the
table of latest figures into the README.

Registering a benchmark: add a module to bench/benchmarks/ with `NAME`,
`ORDER` (an int: benchmarks run in ascending order, clearing first, since
later ones read the cleared day), `TARGET` (words) and
`run(bench: Bench) -> dict` returning `figures`, and where it has one,
`floor` (what and seconds) and `ratio`, and `met` (the target, true/false).
The runner adds name, scale, git commit, date, load average, machine and
peak memory.
"""

import argparse
import datetime as dt
import importlib
import json
import os
import pkgutil
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/exchange_bench"
RESULTS = ROOT / "bench" / "results"
TABLE_START = "<!-- bench-table: written by bench/run.py -->"
TABLE_END = "<!-- /bench-table -->"


@dataclass
class Bench:
    """What a benchmark gets: the seeded database's URL, the scale and the business day."""

    url: str
    scale: float
    quick: bool
    day: dt.date
    notes: dict = field(default_factory=dict)

    def progress(self, text: str) -> None:
        sys.stderr.write(f"  {text}\n")
        sys.stderr.flush()


def database_url_for(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _admin(url: str) -> str:
    return database_url_for(url, "postgres").replace("postgres://", "postgresql://", 1)


def recreate_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(url: str) -> bool:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        return found is not None


def registered() -> list:
    """Every module of bench/benchmarks, in ORDER."""
    import bench.benchmarks as package

    modules = [
        importlib.import_module(f"bench.benchmarks.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": pg_version,
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def write_result(module, bench: Bench, outcome: dict, seconds: float, load_before) -> dict:
    result = {
        "name": module.NAME,
        "target": getattr(module, "TARGET", ""),
        "scale": bench.scale,
        "figures": outcome.get("figures", {}),
        "floor": outcome.get("floor"),
        "ratio": outcome.get("ratio"),
        # The targets are set for the scale-100 data set; a quick run says nothing of them.
        "met": None if bench.quick else outcome.get("met"),
        "seconds": round(seconds, 2),
        "git_commit": git_commit(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average": {"before": load_before, "after": _load()},
        "machine": machine(),
        # ru_maxrss is the process's peak so far (kilobytes on Linux): benchmarks run
        # in order, so this is the most memory any benchmark up to this one needed.
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if bench.quick else ""
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    (RESULTS / f"{module.NAME}{suffix}.json").write_text(text)
    if not bench.quick:
        (RESULTS / f"{module.NAME}.json").write_text(text)
    return result


def _headline(result: dict) -> str:
    figures = result.get("figures") or {}
    headline = figures.get("headline")
    return headline or ", ".join(f"{k} {v}" for k, v in list(figures.items())[:3])


def readme_table() -> str:
    """The table of the latest full-scale figures (quick runs only where no full run exists)."""
    rows = []
    by_name: dict[str, dict] = {}
    for path in sorted(RESULTS.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        if "name" not in data or "figures" not in data:
            continue  # an older file of another shape
        name = data["name"]
        if name not in by_name or (path.stem == name):
            by_name[name] = data
    for name, data in sorted(by_name.items()):
        floor = data.get("floor") or {}
        if floor.get("seconds") is not None:
            floor_text = f"{floor['seconds']} s"
        elif floor.get("p95_ms") is not None:
            floor_text = f"p95 {floor['p95_ms']} ms"
        else:
            floor_text = "none"
        ratio = data.get("ratio")
        met = {True: "yes", False: "**no**", None: "-"}[data.get("met")]
        loads = data.get("load_average") or {}
        load = [f"{(loads.get('before') or ['?'])[0]} -> {(loads.get('after') or ['?'])[0]}"]
        rows.append(
            f"| {name} | {data['scale']:g} | {_headline(data)} | {floor_text} | "
            f"{ratio if ratio is not None else '-'} | {data.get('target', '')} | {met} | "
            f"{data.get('peak_memory_mb')} MB | {load[0]} | {data['git_commit']}, "
            f"{data['date'][:10]} |"
        )
    header = (
        "| benchmark | scale | figures | floor | ratio | target | met | peak memory "
        "| load (1 min, before -> after) | commit, date |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    return "\n".join([header, *rows])


def update_readme() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        return
    head, rest = text.split(TABLE_START, 1)
    _old, tail = rest.split(TABLE_END, 1)
    readme.write_text(f"{head}{TABLE_START}\n{readme_table()}\n{TABLE_END}{tail}")


def seed(url: str, scale: float) -> float:
    """migrate and seed_demo in a child process (Django set up afresh), timed."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    started = time.monotonic()
    for argv in (
        ["manage.py", "migrate", "--noinput", "-v0"],
        ["manage.py", "seed_demo", "--scale", f"{scale:g}", "--trading", "day"],
    ):
        subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, check=True)  # noqa: S603
    return time.monotonic() - started


def _checkpoint(connection) -> None:
    """Write out what the benchmark before left in shared buffers, so its pages are not
    flushed inside the next one's timings (a superuser's right; skipped without it)."""
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as error:
        sys.stderr.write(f"  no checkpoint before the benchmark: {error}\n")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("EXCHANGE_VAR_DIR", str(ROOT / "var"))
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale 1 instead of 100")
    parser.add_argument("--scale", type=float, help="seed_demo scale (overrides --quick)")
    parser.add_argument("--only", nargs="*", help="benchmark names to run (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--reuse", action="store_true", help="use the kept database as it is (no re-seeding)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args()
    modules = registered()
    if args.list:
        for module in modules:
            print(f"{module.NAME:<16} {getattr(module, 'TARGET', '')}")
        return
    if args.only:
        unknown = set(args.only) - {m.NAME for m in modules}
        if unknown:
            sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        modules = [m for m in modules if m.NAME in args.only]
    scale = args.scale or (1.0 if args.quick else 100.0)
    # The benchmark drops and recreates its database, so it never takes the name
    # from DATABASE_URL (that may be the exchange's own data): only the server.
    url = os.environ.get("BENCH_DATABASE_URL") or database_url_for(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "exchange_bench"
    )
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("the benchmarks need PostgreSQL: set DATABASE_URL=postgres://...")
    if urlparse(url).path.lstrip("/") in {"", "postgres"}:
        sys.exit("BENCH_DATABASE_URL must name a database of its own; it is dropped and recreated")
    if args.reuse and database_exists(url):
        sys.stderr.write(f"reusing {url}\n")
        seed_seconds = None
    else:
        recreate_database(url)
        sys.stderr.write(f"seeding {url} at scale {scale:g} ...\n")
        load_before = _load()
        seed_seconds = seed(url, scale)
        sys.stderr.write(f"seeded in {seed_seconds:.1f} s (load before {load_before})\n")
    setup_django(url)
    from django.db import connection
    from django.utils import timezone

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    bench = Bench(url=url, scale=scale, quick=args.quick, day=yesterday)
    try:
        for module in modules:
            sys.stderr.write(f"{module.NAME}: {getattr(module, 'TARGET', '')}\n")
            _checkpoint(connection)
            load_before = _load()
            started = time.monotonic()
            outcome = module.run(bench)
            result = write_result(module, bench, outcome, time.monotonic() - started, load_before)
            print(json.dumps({k: result[k] for k in ("name", "figures", "ratio", "met")}))
    finally:
        connection.close()
        if not (args.keep or args.reuse):
            drop_database(url)
    update_readme()


if __name__ == "__main__":
    main()

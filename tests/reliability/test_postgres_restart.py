"""PostgreSQL restarted mid-run, twice (a fast shutdown, then an immediate one that leaves
crash recovery to the next start): the clearing day resumes on its own and ends as one
clean run.

Where the restarts fall is decided, not timed: the test holds row locks on the orders of
the day's third and fourth quarters, so the worker clears the first half and then waits
inside a chunk. The third quarter's lock is an open transaction, which the first restart
ends; the fourth's is a prepared transaction (two-phase commit), which keeps its locks
through both restarts until the test rolls it back. So each restart cuts chunks mid-
statement: the first with exactly the day's second half pending, the second with at least
its fourth quarter.

The database server is a cluster of the test's own (pg_createcluster, port 9710), made
for this test and dropped after it, so restarting it touches nothing else: the shared
cluster on 5432 only lends its test database's schema (pg_dump). The test's Django
connection points at the own cluster while the test runs, and so do the worker and beat.
"""

import contextlib
import os
import random
import shutil
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection

from marketplace.models import Order
from settlements.models import ClearingBatch, ClearingChunk
from settlements.services.clearing import clearing_batch_verify, clearing_run_for_day
from tests.factories.settlements import a_past_day, default_fee
from tests.reliability.conftest import OwnRedis, wait_for
from tests.reliability.day import (
    Cast,
    build_day,
    cleared_exactly_once,
    ledger_problems,
    postings_digest,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ORDERS, CHUNK = 40_000, 1_000
PG_PORT = 9710  # of the query helper's range, 9700-9799
REDIS_PORTS = range(9711, 9800)
CLUSTER = "exchange_reltest_9710"
DATABASE = "exchange_restart"
RESTARTS = ("fast", "immediate")
HOLD = "reltest_fourth_quarter"
ORDER = Order._meta.db_table


def _run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed argv of PostgreSQL's cluster tools
        argv, capture_output=True, text=True, timeout=timeout, check=False
    )


def _newest_version() -> str | None:
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p.name for p in root.glob("*") if (p / "bin" / "initdb").exists()),
        key=lambda v: [int(x) for x in v.split(".") if x.isdigit()],
    )
    return versions[-1] if versions else None


class OwnCluster:
    """A PostgreSQL cluster on 127.0.0.1:9710, trust auth, fsync off (a process restart
    loses nothing the operating system has; the machine is not switched off here)."""

    def __init__(self, version: str):
        self.version = version

    def _ctl(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return _run(*argv, timeout=timeout)

    def exists(self) -> bool:
        listed = self._ctl("pg_lsclusters", "--no-header").stdout.split("\n")
        return any(line.split()[:2] == [self.version, CLUSTER] for line in listed if line.strip())

    def create(self) -> None:
        if self.exists():  # left by an interrupted run of this test: ours to drop
            self.drop()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", PG_PORT))
            except OSError:
                pytest.skip(f"port {PG_PORT} is taken by something else")
        made = self._ctl(
            "pg_createcluster", self.version, CLUSTER, "-p", str(PG_PORT),
            "-o", "listen_addresses=localhost", "-o", "fsync=off",
            "-o", "max_connections=60", "-o", "max_prepared_transactions=4",
            "--start", "--", "--auth=trust",
        )  # fmt: skip
        if made.returncode != 0:
            pytest.fail(f"pg_createcluster failed: {made.stderr}")

    def restart(self, mode: str) -> None:
        done = self._ctl("pg_ctlcluster", "--mode", mode, self.version, CLUSTER, "restart")
        assert done.returncode == 0, done.stderr

    def drop(self) -> None:
        self._ctl("pg_dropcluster", "--stop", self.version, CLUSTER)


def _skip_reason() -> str | None:
    if shutil.which("pg_createcluster") is None:
        return "pg_createcluster is not installed (Debian's postgresql-common)"
    if os.geteuid() != 0:
        return "pg_createcluster needs root here (it creates the cluster as postgres)"
    if _newest_version() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    return None


@pytest.fixture
def own_postgres(transactional_db):
    """The test's Django connection on a database of the own cluster, a copy of the test
    database's schema; put back on the shared test database afterwards."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    cluster = OwnCluster(_newest_version() or "")
    cluster.create()
    saved = dict(connection.settings_dict)
    try:
        source = saved["NAME"]
        made = _run("createdb", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", DATABASE)
        assert made.returncode == 0, made.stderr
        dump = subprocess.Popen(  # noqa: S603
            [  # noqa: S607
                "pg_dump", "-h", saved.get("HOST") or "127.0.0.1",
                "-p", str(saved.get("PORT") or 5432), "-U", saved.get("USER") or "postgres",
                "--no-owner", "--no-privileges", source,
            ],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        loaded = subprocess.run(  # noqa: S603
            [  # noqa: S607
                "psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(PG_PORT),
                "-U", "postgres", DATABASE,
            ],
            stdin=dump.stdout, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert dump.wait(60) == 0
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(PG_PORT), NAME=DATABASE)
        yield cluster
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
        cluster.drop()
        assert not cluster.exists()


@pytest.fixture
def redis_of_ours(tmp_path):
    """A Redis of the test's own, on a free port of the query helper's range."""
    server = OwnRedis(tmp_path)
    for port in REDIS_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        server.port, server.url = port, f"redis://127.0.0.1:{port}/0"
        break
    else:
        pytest.fail("no free port in 9711-9799 for the test's Redis")
    server.start()
    yield server
    server.stop()


def _tolerant(read, default=None):
    """Read from the database, which may be restarting: then the answer is `default`."""
    try:
        return read()
    except (OperationalError, InterfaceError):
        connection.close()  # the next read opens a new connection
        return default


def _chunks(day, status) -> int:
    return ClearingChunk.objects.filter(batch__business_date=day, status=status).count()


def _own(**kwargs) -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1", port=PG_PORT, user="postgres", dbname=DATABASE, **kwargs
    )


def _hold(lo: int, hi: int, *, prepared: str | None = None) -> psycopg.Connection | None:
    """Lock orders lo..hi FOR UPDATE: in an open transaction (returned), or prepared."""
    holder = _own()
    locking = f"SELECT id FROM {ORDER} WHERE id BETWEEN %s AND %s FOR UPDATE"  # noqa: S608
    holder.execute(locking, [lo, hi])
    if prepared is None:
        return holder
    holder.execute(f"PREPARE TRANSACTION '{prepared}'")
    holder.close()
    return None


def _waiting_on(application_name: str, blocker: int) -> bool:
    """Both pool processes wait on a lock of `blocker` (a backend's pid; 0: a prepared
    transaction), not on each other's account locks, which come and go."""
    try:
        with _own(autocommit=True) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND %s = ANY(pg_blocking_pids(pid))",
                [application_name, blocker],
            ).fetchone()
    except psycopg.OperationalError:
        return False  # the server is starting
    return row is not None and row[0] >= 2


def test_postgres_restarted_mid_run_the_day_resumes_as_one_clean_run(
    own_postgres, redis_of_ours, processes_for
):
    # given two identical days on the own cluster, the first cleared without interruption
    default_fee(300)
    cast = Cast()
    reference_day, day = a_past_day(), a_past_day()
    ref_lo, ref_hi = build_day(cast, reference_day, ORDERS)
    lo, hi = build_day(cast, day, ORDERS)
    assert hi - lo + 1 == ORDERS
    clearing_run_for_day(business_date=reference_day, chunk_size=CHUNK)
    # and the orders of the day's second half locked: its third quarter by an open
    # transaction, its fourth by a prepared one
    quarter = ORDERS // 4
    third = _hold(lo + 2 * quarter, lo + 3 * quarter - 1)
    assert third is not None
    _hold(lo + 3 * quarter, hi, prepared=HOLD)
    name = f"reltest-{random.randrange(10**6)}"
    procs = processes_for(
        redis_of_ours.url,
        CLEARING_CHUNK_SIZE=CHUNK,
        JOBS_STALE_SECONDS=10,
        JOBS_RECOVER_SECONDS=2,
    )
    procs.env["DATABASE_URL"] += f"?application_name={name}"
    assert f":{PG_PORT}/{DATABASE}?" in procs.env["DATABASE_URL"]
    procs.beat()
    procs.worker()
    # when the day runs on the worker, and PostgreSQL is restarted each time both pool
    # processes wait inside a chunk on the locked orders
    procs.send("settlements.tasks.clearing_run_for_day_task", day.isoformat())
    done_at_restart: list[int] = []
    try:
        for mode, blocker in zip(RESTARTS, (third.info.backend_pid, 0), strict=True):
            wait_for(
                lambda b=blocker: _waiting_on(name, b),
                timeout=240,
                what="the worker to wait inside a chunk on the locked orders",
                every=0.2,
            )
            done_at_restart.append(_tolerant(lambda: _chunks(day, "done"), -1))
            connection.close()
            own_postgres.restart(mode)
        # the third quarter's transaction ended with the first restart; the prepared one
        # came through both, and the test now lets it go
        with contextlib.suppress(psycopg.Error):
            third.close()
        with _own(autocommit=True) as conn:
            held = conn.execute("SELECT gid FROM pg_prepared_xacts").fetchall()
            assert held == [(HOLD,)]
            conn.execute(f"ROLLBACK PREPARED '{HOLD}'")
        # then the day completes with nobody starting it again
        wait_for(
            lambda: _tolerant(
                lambda: ClearingBatch.objects.filter(business_date=day, status="computed").exists(),
                False,
            ),
            timeout=300,
            what="the day to complete after the restarts",
        )
    except BaseException:
        print(procs.log())
        for path in sorted(procs.tmp.glob("*.log")):  # the whole story, not only the tails
            lines = path.read_text(errors="replace").splitlines()
            print(f"--- {path.name}: the lines that say something went wrong")
            print("\n".join(x for x in lines if any(w in x for w in ("ERROR", "Error", "WARN"))))
        raise
    chunks = ORDERS // CHUNK
    print(f"chunks done at the restarts: {done_at_restart} of {chunks}")
    # and the restarts came mid-run: the first with exactly the second half pending, the
    # second with at least the fourth quarter (chunks the first one cut wait out their
    # retry back-off, so the third quarter may not be through yet)
    assert done_at_restart[0] == chunks // 2
    assert chunks // 2 <= done_at_restart[1] <= chunks * 3 // 4
    batch = ClearingBatch.objects.get(business_date=day)
    assert set(cleared_exactly_once(lo, hi, batch.pk).values()) == {0}
    assert postings_digest(lo, hi) == postings_digest(ref_lo, ref_hi)
    assert clearing_batch_verify(batch=batch) == {}
    assert ledger_problems() == {"balances_off": 0, "entries_unbalanced": 0, "ledger_sum": 0}

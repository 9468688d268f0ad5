"""Clearing the same day again: it must add no postings, quickly."""

import time

NAME = "clearing-rerun"
ORDER = 20
TARGET = "0 postings added, under 5 s"


def run(bench) -> dict:
    from django.db import connection

    from bench.benchmarks.clearing import clear

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM settlements_posting")
        (before,) = cursor.fetchone()
    started = time.monotonic()
    clear(bench)
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM settlements_posting")
        (after,) = cursor.fetchone()
    return {
        "figures": {
            "headline": f"{seconds:.2f} s, {after - before} postings added",
            "seconds": round(seconds, 2),
            "postings_added": after - before,
        },
        "met": after == before and seconds < 5,
    }

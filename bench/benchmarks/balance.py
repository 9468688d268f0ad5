"""The account with the most postings: its balance and this month's statement page."""

import datetime as dt
import statistics
import time

NAME = "balance"
ORDER = 40
TARGET = "p95 under 5 ms"
REPEAT = 200
# A slow statement must not hold the machine: stop after this many seconds of samples.
BUDGET_SECONDS = 30


def _p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[-1] * 1000, 2)


def run(bench) -> dict:
    from django.db.models import Count

    from settlements.models import LedgerAccount, Posting
    from settlements.selectors import statement_for_account

    top = Posting.objects.values("account_id").annotate(n=Count("id")).order_by("-n").first() or {
        "account_id": None,
        "n": 0,
    }
    account = LedgerAccount.objects.get(pk=top["account_id"] or 0)
    today = bench.day + dt.timedelta(days=1)
    month_start = today.replace(day=1)
    balance: list[float] = []
    statement: list[float] = []
    deadline = time.monotonic() + BUDGET_SECONDS
    for _ in range(REPEAT):
        if len(statement) >= 20 and time.monotonic() > deadline:
            break
        started = time.perf_counter()
        LedgerAccount.objects.values_list("balance_fen", flat=True).get(pk=account.pk)
        balance.append(time.perf_counter() - started)
        started = time.perf_counter()
        statement_for_account(account=account, date_from=month_start, date_to=today)
        statement.append(time.perf_counter() - started)
    p95_balance, p95_statement = _p95(balance), _p95(statement)
    return {
        "figures": {
            "headline": f"balance p95 {p95_balance} ms, statement page p95 {p95_statement} ms "
            f"({top['n']:,} postings)",
            "postings_on_account": top["n"],
            "balance_p95_ms": p95_balance,
            "statement_p95_ms": p95_statement,
            "repeats": len(statement),
        },
        "met": p95_balance < 5 and p95_statement < 5,
    }

"""可追溯 traceability: a hash chain of seals over every recorded state change and entry.

Rows are sealed in batches, after the fact, by `chain_seal` (beat runs it every
few minutes and the audit runs it first), so clearing and every other writer
stays set-based and pays nothing per row.

The canonical form (version 1), which certificates quote so anyone can recompute:

- a row of a status-event table (every `core.models.StatusEvent` subclass) is the
  JSON array `[id, subject_id, actor_id, from_status, to_status, reason, created_at]`;
- a journal entry is `[id, idempotency_key, purpose, order_id, clearing_batch_id,
  reverses_id, memo, created_at, [[posting_id, account_id, amount_fen], ...]]` with
  its postings in id order;
- times are UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`; JSON is compact (`,` and `:`), UTF-8,
  non-ASCII kept as is;
- a row's leaf hash is sha256 of that JSON; a seal's `merkle_root` is the Merkle
  root of its leaves in id order (pairs hashed as sha256 of the two hex strings
  concatenated; an odd last node moves up unchanged); its `digest` is sha256 of
  `previous_digest|sequence|table|first_id|last_id|row_count|merkle_root`, the
  first seal's previous digest being 64 zeros.

A seal covers every id in [first_id, last_id] of its table: the next seal of a
table starts at the previous one's last_id + 1, so a removed or inserted row
changes the row count or the root.

Rows are sealed only once they are `EXCHANGE_CHAIN_SETTLE_SECONDS` old, so that a
transaction still open when the sealer runs (holding a lower id) has committed
before its neighbours are sealed.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable

from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, ForeignKey, Max, Model
from django.utils import timezone

from core.models import StatusEvent
from core.sql import quoted_table
from oversight.choices import FindingKind
from oversight.conf import setting
from oversight.models import AuditRun, ChainSeal
from oversight.services.problems import Problem, ref

GENESIS_DIGEST = "0" * 64
JOURNAL_TABLE = "settlements.journalentry"
EVENT_FIELDS = ("id", "subject_id", "actor_id", "from_status", "to_status", "reason", "created_at")
ENTRY_FIELDS = (
    "id",
    "idempotency_key",
    "purpose",
    "order_id",
    "clearing_batch_id",
    "reverses_id",
    "memo",
    "created_at",
)


def covered_models() -> dict[str, type[Model]]:
    """Every table the chain covers, by label: all status-event tables and the journal."""
    found: dict[str, type[Model]] = {
        model._meta.label_lower: model
        for model in apps.get_models()
        if issubclass(model, StatusEvent) and not model._meta.abstract
    }
    found[JOURNAL_TABLE] = apps.get_model("settlements", "JournalEntry")
    return dict(sorted(found.items()))


def _canonical_value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def _canonical_json(row: list) -> str:
    return json.dumps([_canonical_value(v) for v in row], ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical_rows(table: str, first_id: int, last_id: int) -> list[tuple[int, list]]:
    """The covered rows of `table` with ids in [first_id, last_id], in id order, canonical."""
    model = covered_models()[table]
    if table == JOURNAL_TABLE:
        entries = list(
            model._default_manager.filter(id__gte=first_id, id__lte=last_id)
            .order_by("id")
            .values_list(*ENTRY_FIELDS)
        )
        postings: dict[int, list] = {}
        posting_rows = (
            apps.get_model("settlements", "Posting")
            .objects.filter(entry_id__gte=first_id, entry_id__lte=last_id)
            .order_by("entry_id", "id")
            .values_list("entry_id", "id", "account_id", "amount_fen")
        )
        for entry_id, posting_id, account_id, amount in posting_rows:
            postings.setdefault(entry_id, []).append([posting_id, account_id, amount])
        return [(row[0], [*row, postings.get(row[0], [])]) for row in entries]
    rows = (
        model._default_manager.filter(id__gte=first_id, id__lte=last_id)
        .order_by("id")
        .values_list(*EVENT_FIELDS)
    )
    return [(row[0], list(row)) for row in rows]


# The same canonical form, built by PostgreSQL: sealing and verifying read one
# string per row instead of every column through the ORM, and hash it here
# (hashlib is several times faster per row than the database's sha256()).
# It must give what `_canonical_json(_canonical_rows(...))` gives for every value
# the covered columns can hold (tests hold the two to each other). Text goes
# through to_json, whose escaping (\" \\ \b \f \n \r \t, other control
# characters as \u00xx, the rest as is) is json.dumps's with ensure_ascii=False;
# an integer's JSON is its decimal text.
_UTC_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
_SQL_TEXT_TYPES = {"CharField", "TextField", "SlugField", "EmailField"}
_SQL_INT_TYPES = {
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "BigIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "SmallIntegerField",
    "PositiveSmallIntegerField",
}
# Rows per query when sealing: many seals' worth, so a million rows are a few
# dozen round trips rather than a thousand.
SEAL_CHUNK_ROWS = 50_000


def _column(model: type[Model], name: str) -> tuple[Field, str]:
    """A concrete field of `model` and its quoted column."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"{model._meta.label}.{name} is not a column")
    return field, connection.ops.quote_name(field.column)


def _sql_json(model: type[Model], name: str, alias: str) -> str:
    """The canonical JSON of one column, as SQL; refuses a type whose JSON could differ."""
    field, quoted = _column(model, name)
    target = field.target_field if isinstance(field, ForeignKey) else field
    kind = target.get_internal_type()
    column = f"{alias}.{quoted}"
    if kind == "DateTimeField":
        value = f"to_json(to_char({column} AT TIME ZONE 'UTC', '{_UTC_FORMAT}'))::text"
    elif kind in _SQL_TEXT_TYPES:
        value = f"to_json({column})::text"
    elif kind in _SQL_INT_TYPES:
        value = f"{column}::text"
    else:
        raise TypeError(f"{model._meta.label}.{name}: no SQL canonical form for {kind}")
    return f"COALESCE({value}, 'null')"


def _canonical_sql(table: str) -> str:
    """SELECT id, settled, canonical JSON over ids in [%(lo)s, %(hi)s], in id order, %(limit)s rows.

    `settled` is created_at < %(cutoff)s. Identifiers come from model metadata only.
    """
    model = covered_models()[table]
    fields = ENTRY_FIELDS if table == JOURNAL_TABLE else EVENT_FIELDS
    parts = [_sql_json(model, name, "t") for name in fields]
    joins = ""
    if table == JOURNAL_TABLE:
        posting = apps.get_model("settlements", "Posting")
        line = " || ',' || ".join(
            _sql_json(posting, name, "p") for name in ("id", "account", "amount_fen")
        )
        entry = _column(posting, "entry")[1]
        joins = (
            "LEFT JOIN LATERAL (SELECT string_agg('[' || "  # noqa: S608
            f"{line} || ']', ',' ORDER BY p.id) AS lines "
            f"FROM {quoted_table(posting)} p "
            f"WHERE p.{entry} = t.id) pl ON true"
        )
        parts.append("'[' || COALESCE(pl.lines, '') || ']'")
    canonical = "'[' || " + " || ',' || ".join(parts) + " || ']'"
    created = _column(model, "created_at")[1]
    return (
        f"SELECT t.id, t.{created} < %(cutoff)s, "  # noqa: S608
        f"{canonical} "
        f"FROM {quoted_table(model)} t {joins} "
        "WHERE t.id >= %(lo)s AND t.id <= %(hi)s ORDER BY t.id LIMIT %(limit)s"
    )


def _leaves(
    table: str, lo: int, hi: int, *, limit: int | None = None, cutoff: dt.datetime | None = None
) -> list[tuple[int, bool | None, str]]:
    """(id, settled, leaf hash) of the covered rows with ids in [lo, hi], in id order."""
    if connection.vendor != "postgresql":
        return _leaves_python(table, lo, hi, limit=limit, cutoff=cutoff)
    with connection.cursor() as cursor:
        params = {"lo": lo, "hi": hi, "limit": limit, "cutoff": cutoff}
        cursor.execute(_canonical_sql(table), params)
        rows = cursor.fetchall()
    sha256 = hashlib.sha256
    return [
        (row_id, settled, sha256(canonical.encode("utf-8")).hexdigest())
        for row_id, settled, canonical in rows
    ]


def _leaves_python(
    table: str, lo: int, hi: int, *, limit: int | None, cutoff: dt.datetime | None
) -> list[tuple[int, bool | None, str]]:
    """`_leaves` from the canonical rows themselves, where the database cannot hash."""
    model = covered_models()[table]
    ids = model._default_manager.filter(id__gte=lo, id__lte=hi).order_by("id")
    created = list(
        ids.values_list("id", "created_at")[:limit]
        if limit
        else ids.values_list("id", "created_at")
    )
    if not created:
        return []
    rows = dict(_canonical_rows(table, created[0][0], created[-1][0]))
    return [
        (row_id, None if cutoff is None else at < cutoff, leaf_hash(rows[row_id]))
        for row_id, at in created
    ]


def leaf_hash(row: list) -> str:
    return sha256_hex(_canonical_json(row))


def merkle_root(leaves: list[str]) -> str:
    if not leaves:
        return sha256_hex("")
    # On the hex digits as ASCII bytes: the same hashes as sha256_hex of the
    # concatenated strings, without a str round trip per node (a seal run hashes
    # a million of them).
    sha256 = hashlib.sha256
    level = [leaf.encode("ascii") for leaf in leaves]
    while len(level) > 1:
        odd = level[-1] if len(level) % 2 else None
        level = [
            sha256(level[i] + level[i + 1]).hexdigest().encode("ascii")
            for i in range(0, len(level) - 1, 2)
        ]
        if odd is not None:
            level.append(odd)
    return level[0].decode("ascii")


def merkle_proof(leaves: list[str], index: int) -> list[dict]:
    """The sibling hashes that lead from leaf `index` to the root, bottom up."""
    proof = []
    level = list(leaves)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append({"side": "left" if sibling < index else "right", "hash": level[sibling]})
        level = [
            sha256_hex(level[i] + level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        index //= 2
    return proof


def merkle_verify(leaf: str, proof: Iterable[dict], root: str) -> bool:
    node = leaf
    for step in proof:
        node = sha256_hex(step["hash"] + node if step["side"] == "left" else node + step["hash"])
    return node == root


def seal_digest(
    *,
    previous_digest: str,
    sequence: int,
    table: str,
    first_id: int,
    last_id: int,
    row_count: int,
    merkle_root: str,
) -> str:
    return sha256_hex(
        f"{previous_digest}|{sequence}|{table}|{first_id}|{last_id}|{row_count}|{merkle_root}"
    )


def _digest_of(seal: ChainSeal) -> str:
    return seal_digest(
        previous_digest=seal.previous_digest,
        sequence=seal.sequence,
        table=seal.table,
        first_id=seal.first_id,
        last_id=seal.last_id,
        row_count=seal.row_count,
        merkle_root=seal.merkle_root,
    )


def chain_seal(
    *, batch_size: int | None = None, max_seals: int = 1000, settle_seconds: int | None = None
) -> int:
    """Seal covered rows not sealed yet, in batches of `batch_size`; return seals made.

    A seal ends at the `batch_size`-th settled row after the previous one (or
    at the last settled row), and covers every row in its range. Leaves are
    read in chunks of many seals and the chunk's seals are written in one
    transaction, so progress is recorded as it goes.

    Invariant: each new seal links to the chain's head, and starts where its
    table's previous seal ended, so the chain stays contiguous. Two sealers
    running at once collide on the unique sequence (or find the table sealed
    further than they started); the loser stops and leaves the rest to the winner.
    """
    batch_size = batch_size or setting("EXCHANGE_CHAIN_SEAL_BATCH")
    if settle_seconds is None:
        settle_seconds = setting("EXCHANGE_CHAIN_SETTLE_SECONDS")
    cutoff = timezone.now() - dt.timedelta(seconds=settle_seconds)
    chunk = max(SEAL_CHUNK_ROWS, batch_size)
    made = 0
    for table in covered_models():
        if made >= max_seals:
            break
        sealed_to = ChainSeal.objects.filter(table=table).aggregate(m=Max("last_id"))["m"] or 0
        # The open seal: its rows so far, how many of them are settled, and
        # where the last settled one is (a seal never ends on an unsettled row).
        leaves: list[str] = []
        settled = 0
        last_settled = (-1, 0)  # (index in leaves, id)
        read_to = sealed_to
        ranges: list[tuple[int, int, list[str]]] = []
        while made + len(ranges) < max_seals:
            rows = _leaves(table, read_to + 1, _MAX_ID, limit=chunk, cutoff=cutoff)
            for row_id, is_settled, leaf in rows:
                leaves.append(leaf)
                if not is_settled:
                    continue
                settled += 1
                last_settled = (len(leaves) - 1, row_id)
                if settled == batch_size:
                    ranges.append((sealed_to + 1, row_id, leaves))
                    sealed_to, leaves, settled = row_id, [], 0
                    if made + len(ranges) == max_seals:
                        break
            end_of_table = len(rows) < chunk
            if end_of_table and settled and made + len(ranges) < max_seals:
                index, row_id = last_settled
                ranges.append((sealed_to + 1, row_id, leaves[: index + 1]))
            if ranges:
                written = _seals_write(table, ranges)
                made += written
                if written < len(ranges):
                    return made
                ranges = []
            if end_of_table or not rows:
                break
            read_to = rows[-1][0]
    return made


# Above any id a table will hold: the open end of "every row after the last seal".
_MAX_ID = 2**63 - 1


def _seals_write(table: str, ranges: list[tuple[int, int, list[str]]]) -> int:
    """Write one seal per (first_id, last_id, leaves) after the head, in one transaction.

    Returns how many were written: all, or none when another sealer got there first.
    """
    roots = [(first, last, len(leaves), merkle_root(leaves)) for first, last, leaves in ranges]
    try:
        with transaction.atomic():
            sealed_to = ChainSeal.objects.filter(table=table).aggregate(m=Max("last_id"))["m"] or 0
            if sealed_to + 1 != roots[0][0]:
                return 0
            head = ChainSeal.objects.order_by("-sequence").first()
            sequence = head.sequence if head else 0
            previous = head.digest if head else GENESIS_DIGEST
            now = timezone.now()
            seals = []
            for first, last, count, root in roots:
                sequence += 1
                seal = ChainSeal(
                    sequence=sequence,
                    table=table,
                    first_id=first,
                    last_id=last,
                    row_count=count,
                    merkle_root=root,
                    previous_digest=previous,
                    sealed_at=now,
                )
                seal.digest = previous = _digest_of(seal)
                seals.append(seal)
            ChainSeal.objects.bulk_create(seals)
    except IntegrityError:
        return 0
    return len(roots)


def _broken(seal_or_table, summary: str, **details) -> Problem:
    if isinstance(seal_or_table, ChainSeal):
        seal = seal_or_table
        return Problem(
            kind=FindingKind.CHAIN_BROKEN,
            fingerprint=f"chain_broken:{seal.table}:{seal.first_id}:{details.pop('what')}",
            summary=summary,
            objects=[ref(ChainSeal, seal.pk)],
            details={
                "seal_sequence": seal.sequence,
                "table": seal.table,
                "first_id": seal.first_id,
                "last_id": seal.last_id,
                **details,
            },
        )
    return Problem(
        kind=FindingKind.CHAIN_BROKEN,
        fingerprint=f"chain_broken:{seal_or_table}:{details.pop('what')}",
        summary=summary,
        details=details,
    )


def chain_verify(*, full: bool = False, budget: int | None = None) -> tuple[list[Problem], int]:
    """Check the chain; return (problems, seals whose rows were re-hashed).

    Every run checks the links of all seals (cheap: one row per batch) and
    that the head recorded by the last finished audit is still there. It then
    re-hashes the rows of the seals verified longest ago, up to `budget`
    seals, so the whole history is re-read over successive runs; `full`
    re-hashes everything.
    """
    budget = budget or setting("EXCHANGE_CHAIN_VERIFY_BUDGET")
    problems: list[Problem] = []
    previous_digest = GENESIS_DIGEST
    expected_sequence = 1
    table_end: dict[str, int] = {}
    for seal in ChainSeal.objects.order_by("sequence").iterator(chunk_size=2000):
        if seal.sequence != expected_sequence:
            problems.append(
                _broken(
                    "chain",
                    f"seals {expected_sequence}..{seal.sequence - 1} are missing",
                    what=f"gap:{expected_sequence}",
                    missing_from=expected_sequence,
                    missing_to=seal.sequence - 1,
                )
            )
        if seal.previous_digest != previous_digest or seal.digest != _digest_of(seal):
            problems.append(
                _broken(seal, f"seal #{seal.sequence} does not link to the chain", what="link")
            )
        start = table_end.get(seal.table, 0) + 1
        if seal.first_id != start:
            problems.append(
                _broken(
                    seal,
                    f"seal #{seal.sequence} of {seal.table} does not start where the last ended",
                    what="range",
                    expected_first_id=start,
                )
            )
        table_end[seal.table] = seal.last_id
        previous_digest = seal.digest
        expected_sequence = seal.sequence + 1

    last_run = (
        AuditRun.objects.filter(chain_head_sequence__isnull=False)
        .order_by("-finished_at", "-id")
        .only("chain_head_sequence", "chain_head_digest")
        .first()
    )
    if last_run is not None and last_run.chain_head_sequence is not None:
        still = ChainSeal.objects.filter(
            sequence=last_run.chain_head_sequence, digest=last_run.chain_head_digest
        ).exists()
        if not still:
            problems.append(
                _broken(
                    "chain",
                    f"seal #{last_run.chain_head_sequence}, the head at audit #{last_run.pk}, "
                    "is gone or changed",
                    what=f"head:{last_run.chain_head_sequence}",
                    recorded_digest=last_run.chain_head_digest,
                )
            )

    seals = ChainSeal.objects.order_by(F("verified_at").asc(nulls_first=True), "sequence")
    if not full:
        seals = seals[:budget]
    verified_ok = []
    count = 0
    known = covered_models()
    for seal in list(seals):
        count += 1
        if seal.table not in known:
            problems.append(_broken(seal, f"seal #{seal.sequence}: unknown table", what="table"))
            continue
        rows = _leaves(seal.table, seal.first_id, seal.last_id)
        root = merkle_root([leaf for _, _, leaf in rows])
        if len(rows) != seal.row_count or root != seal.merkle_root:
            problems.append(
                _broken(
                    seal,
                    f"rows {seal.first_id}..{seal.last_id} of {seal.table} were changed, "
                    "added or removed after sealing",
                    what="rows",
                    sealed_rows=seal.row_count,
                    rows_now=len(rows),
                    sealed_root=seal.merkle_root,
                    root_now=root,
                )
            )
        else:
            verified_ok.append(seal.pk)
    if verified_ok:
        ChainSeal.objects.filter(pk__in=verified_ok).update(verified_at=timezone.now())
    return problems, count


def chain_head() -> ChainSeal | None:
    return ChainSeal.objects.order_by("-sequence").first()


def row_proof(table: str, row_id: int, cache: dict | None = None) -> dict:
    """The evidence that one row is sealed: its canonical form, leaf, Merkle path and seal.

    `cache` keeps a seal's recomputed leaves between calls for one certificate.
    """
    cache = {} if cache is None else cache
    rows_seal = (
        ChainSeal.objects.filter(table=table, last_id__gte=row_id, first_id__lte=row_id)
        .order_by("last_id")
        .first()
    )
    rows = _canonical_rows(table, row_id, row_id)
    canonical = _canonical_json(rows[0][1]) if rows else None
    evidence: dict = {"table": table, "id": row_id, "canonical": canonical}
    if canonical is not None:
        evidence["leaf_hash"] = sha256_hex(canonical)
    if rows_seal is None:
        evidence["sealed"] = False
        return evidence
    if rows_seal.pk not in cache:
        covered = _canonical_rows(table, rows_seal.first_id, rows_seal.last_id)
        cache[rows_seal.pk] = ([i for i, _ in covered], [leaf_hash(row) for _, row in covered])
    ids, leaves = cache[rows_seal.pk]
    evidence["sealed"] = True
    evidence["seal"] = {
        "sequence": rows_seal.sequence,
        "table": rows_seal.table,
        "first_id": rows_seal.first_id,
        "last_id": rows_seal.last_id,
        "row_count": rows_seal.row_count,
        "merkle_root": rows_seal.merkle_root,
        "previous_digest": rows_seal.previous_digest,
        "digest": rows_seal.digest,
        "sealed_at": rows_seal.sealed_at.isoformat(),
    }
    if row_id in ids:
        evidence["merkle_proof"] = merkle_proof(leaves, ids.index(row_id))
    return evidence

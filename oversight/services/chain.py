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
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Model
from django.utils import timezone

from core.models import StatusEvent
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


def leaf_hash(row: list) -> str:
    return sha256_hex(_canonical_json(row))


def merkle_root(leaves: list[str]) -> str:
    if not leaves:
        return sha256_hex("")
    level = list(leaves)
    while len(level) > 1:
        level = [
            sha256_hex(level[i] + level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


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

    Invariant: each new seal links to the chain's head, and starts where its
    table's previous seal ended, so the chain stays contiguous. Two sealers
    running at once collide on the unique sequence; the loser stops and
    leaves the rest to the winner.
    """
    batch_size = batch_size or setting("EXCHANGE_CHAIN_SEAL_BATCH")
    if settle_seconds is None:
        settle_seconds = setting("EXCHANGE_CHAIN_SETTLE_SECONDS")
    cutoff = timezone.now() - dt.timedelta(seconds=settle_seconds)
    made = 0
    for table, model in covered_models().items():
        while made < max_seals:
            sealed_to = ChainSeal.objects.filter(table=table).aggregate(m=Max("last_id"))["m"] or 0
            ids = list(
                model._default_manager.filter(id__gt=sealed_to, created_at__lt=cutoff)
                .order_by("id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                break
            rows = _canonical_rows(table, sealed_to + 1, ids[-1])
            root = merkle_root([leaf_hash(row) for _, row in rows])
            try:
                with transaction.atomic():
                    head = ChainSeal.objects.order_by("-sequence").first()
                    sequence = head.sequence + 1 if head else 1
                    previous = head.digest if head else GENESIS_DIGEST
                    fields = {
                        "sequence": sequence,
                        "table": table,
                        "first_id": sealed_to + 1,
                        "last_id": ids[-1],
                        "row_count": len(rows),
                        "merkle_root": root,
                    }
                    ChainSeal.objects.create(
                        **fields,
                        previous_digest=previous,
                        digest=seal_digest(previous_digest=previous, **fields),
                        sealed_at=timezone.now(),
                    )
            except IntegrityError:
                return made
            made += 1
            if len(ids) < batch_size:
                break
    return made


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
        rows = _canonical_rows(seal.table, seal.first_id, seal.last_id)
        root = merkle_root([leaf_hash(row) for _, row in rows])
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

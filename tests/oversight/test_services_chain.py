import datetime as dt
import itertools
import json

import pytest
from django.utils import timezone

from marketplace.models import OrderEvent
from oversight.models import AuditFinding, ChainSeal
from oversight.services.audit import audit_run_execute
from oversight.services.certificate import trade_certificate
from oversight.services.chain import (
    GENESIS_DIGEST,
    JOURNAL_TABLE,
    _canonical_rows,
    _leaves,
    chain_seal,
    chain_verify,
    covered_models,
    leaf_hash,
    merkle_proof,
    merkle_root,
    merkle_verify,
    seal_digest,
    sha256_hex,
)
from settlements.models import JournalEntry
from tests.oversight.conftest import ledger_unlocked, raw

pytestmark = pytest.mark.django_db


def chain_findings() -> list[AuditFinding]:
    return list(AuditFinding.objects.filter(kind="chain_broken"))


def test_the_chain_covers_every_event_table_and_the_journal():
    # given the installed apps
    # when the covered tables are listed
    tables = covered_models()
    # then every status-event table and the journal are there
    for label in (
        "accounts.merchantevent",
        "products.productevent",
        "publicdata.grantevent",
        "marketplace.orderevent",
        "settlements.clearingbatchevent",
        "oversight.auditfindingevent",
        JOURNAL_TABLE,
    ):
        assert label in tables


def test_sealing_links_every_seal_to_the_one_before(exchange):
    # given recorded history
    # when it is sealed in small batches
    made = chain_seal(batch_size=3)
    # then the seals form one chain and cover every row once
    seals = list(ChainSeal.objects.order_by("sequence"))
    assert made == len(seals) > 3
    previous = GENESIS_DIGEST
    for n, seal in enumerate(seals, start=1):
        assert seal.sequence == n
        assert seal.previous_digest == previous
        previous = seal.digest
    event_seals = [s for s in seals if s.table == "marketplace.orderevent"]
    assert event_seals[0].first_id == 1
    assert sum(s.row_count for s in event_seals) == OrderEvent.objects.count()
    for before, after in itertools.pairwise(event_seals):
        assert after.first_id == before.last_id + 1
    # and sealing again makes nothing new
    assert chain_seal(batch_size=3) == 0


def test_rows_younger_than_the_settling_delay_wait(exchange, settings):
    # given a settling delay of ten minutes and rows written just now
    settings.EXCHANGE_CHAIN_SETTLE_SECONDS = 600
    # when the sealer runs
    # then it leaves them for later
    assert chain_seal() == 0


def test_an_untouched_chain_verifies(exchange):
    # given sealed history
    chain_seal(batch_size=4)
    # when verified in full
    problems, checked = chain_verify(full=True)
    # then nothing is wrong and every seal was re-hashed
    assert problems == []
    assert checked == ChainSeal.objects.count()
    assert not ChainSeal.objects.filter(verified_at__isnull=True).exists()


def test_editing_a_past_state_change_breaks_the_chain(exchange):
    # given sealed history
    chain_seal()
    event = OrderEvent.objects.filter(subject=exchange.cleared[0]).order_by("id").last()
    # when someone rewrites why an order moved
    raw("UPDATE marketplace_orderevent SET reason = 'nothing to see' WHERE id = %s", [event.pk])
    audit_run_execute()
    # then a critical finding names the seal covering it
    [finding] = chain_findings()
    assert finding.severity == "critical"
    assert finding.details["table"] == "marketplace.orderevent"
    assert finding.details["first_id"] <= event.pk <= finding.details["last_id"]
    assert finding.details["sealed_rows"] == finding.details["rows_now"]


def test_removing_a_past_state_change_breaks_the_chain(exchange):
    # given sealed history
    chain_seal()
    event = OrderEvent.objects.filter(subject=exchange.paid).order_by("id").first()
    # when the row is deleted
    raw("DELETE FROM marketplace_orderevent WHERE id = %s", [event.pk])
    audit_run_execute()
    # then the seal's row count no longer matches
    [finding] = chain_findings()
    assert finding.details["rows_now"] == finding.details["sealed_rows"] - 1


def test_changing_a_posting_of_a_sealed_entry_breaks_the_chain(exchange):
    # given a sealed journal
    chain_seal()
    entry = JournalEntry.objects.get(idempotency_key=f"clearing:order:{exchange.cleared[0].pk}")
    posting = entry.postings.order_by("id").first()
    # when its amount is changed with the ledger trigger disabled
    with ledger_unlocked():
        raw("UPDATE settlements_posting SET amount_fen = 0 WHERE id = %s", [posting.pk])
    audit_run_execute()
    # then the journal seal is broken
    assert any(f.details.get("table") == JOURNAL_TABLE for f in chain_findings())


def test_a_backdated_row_slipped_into_a_sealed_range_breaks_the_chain(exchange):
    # given sealed order events
    chain_seal()
    last = ChainSeal.objects.filter(table="marketplace.orderevent").order_by("last_id").last()
    first = OrderEvent.objects.order_by("id").first()
    doomed = OrderEvent.objects.filter(id__lt=last.last_id).order_by("id").last()
    raw("DELETE FROM marketplace_orderevent WHERE id = %s", [doomed.pk])
    # when a fake row is inserted at the freed id
    raw(
        "INSERT INTO marketplace_orderevent (id, subject_id, actor_id, from_status, to_status, "
        "reason, created_at) VALUES (%s, %s, NULL, 'paid', 'refunded', '', %s)",
        [doomed.pk, first.subject_id, timezone.now() - dt.timedelta(days=300)],
    )
    audit_run_execute()
    # then the seal over that range is broken
    assert chain_findings()


def test_editing_or_cutting_seals_is_noticed(exchange):
    # given a sealed history checked by one sweep
    chain_seal(batch_size=2)
    audit_run_execute()
    seals = list(ChainSeal.objects.order_by("sequence"))
    # when a middle seal's root is rewritten and the last seal is removed
    ChainSeal.objects.filter(pk=seals[1].pk).update(merkle_root="f" * 64)
    ChainSeal.objects.filter(pk=seals[-1].pk).delete()
    problems, _ = chain_verify()
    # then both are reported
    fingerprints = {p.fingerprint for p in problems}
    assert any(fp.endswith(":link") for fp in fingerprints)
    assert any(":head:" in fp for fp in fingerprints)


def test_the_rolling_verify_covers_the_least_recently_verified_seals_first(exchange):
    # given seals, some verified a while ago
    chain_seal(batch_size=2)
    seals = list(ChainSeal.objects.order_by("sequence"))
    chain_verify(full=True)
    ChainSeal.objects.filter(pk=seals[-1].pk).update(verified_at=None)
    # when a rolling verify with a budget of one runs
    _, checked = chain_verify(budget=1)
    # then it re-hashed exactly the seal never verified
    assert checked == 1
    assert not ChainSeal.objects.filter(verified_at__isnull=True).exists()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_every_merkle_proof_leads_to_the_root(size):
    # given leaves
    leaves = [sha256_hex(str(i)) for i in range(size)]
    root = merkle_root(leaves)
    # when each leaf's proof is walked
    # then it reaches the root, and a wrong leaf does not
    for i, leaf in enumerate(leaves):
        assert merkle_verify(leaf, merkle_proof(leaves, i), root)
        assert not merkle_verify(sha256_hex("forged"), merkle_proof(leaves, i), root)


def test_a_trade_certificate_proves_each_row_from_its_own_inputs(exchange):
    # given a cleared order and sealed history
    order = exchange.cleared[0]
    order.refresh_from_db()
    chain_seal(batch_size=3)
    # when its certificate is exported
    certificate = json.loads(json.dumps(trade_certificate(order=order)))
    # then it holds the contract, the state changes and the postings ...
    assert certificate["is_final"] is True
    assert [c["to_status"] for c in certificate["state_changes"]][-1] == "cleared"
    keys = {e["idempotency_key"] for e in certificate["journal_entries"]}
    assert {f"payment:order:{order.pk}", f"clearing:order:{order.pk}"} <= keys
    # ... and every row's proof recomputes to a seal digest stored in the chain
    proofs = [c["proof"] for c in certificate["state_changes"]]
    proofs += [e["proof"] for e in certificate["journal_entries"]]
    for proof in proofs:
        assert proof["sealed"] is True
        leaf = sha256_hex(proof["canonical"])
        assert leaf == proof["leaf_hash"]
        seal = proof["seal"]
        assert merkle_verify(leaf, proof["merkle_proof"], seal["merkle_root"])
        digest = seal_digest(
            previous_digest=seal["previous_digest"],
            sequence=seal["sequence"],
            table=seal["table"],
            first_id=seal["first_id"],
            last_id=seal["last_id"],
            row_count=seal["row_count"],
            merkle_root=seal["merkle_root"],
        )
        assert digest == seal["digest"]
        assert ChainSeal.objects.filter(sequence=seal["sequence"], digest=digest).exists()


def test_a_certificate_before_sealing_says_its_rows_are_not_sealed_yet(exchange):
    # given an order whose history is not sealed yet
    # when its certificate is exported
    certificate = trade_certificate(order=exchange.paid)
    # then it is provisional and says so
    assert certificate["is_final"] is False
    assert {c["proof"]["sealed"] for c in certificate["state_changes"]} == {False}


# Text the canonical JSON must escape exactly as json.dumps does (ensure_ascii=False).
AWKWARD_TEXTS = [
    'a "quoted" word',
    "back\\slash and /slash",
    "new\nline, tab\t, return\r, \b and \f",
    "control \x01 \x1f and delete \x7f",
    "数商 data merchant, 可追溯",
    "emoji 🧾 and line separator \u2028 \u2029",
    "",
]


def test_the_database_builds_each_rows_canonical_form_as_the_certificate_does(exchange):
    # given events and journal entries holding every awkward kind of text
    order = exchange.cleared[0]
    for text in AWKWARD_TEXTS:
        OrderEvent.objects.create(subject=order, from_status="", to_status=text[:32], reason=text)
    entry = JournalEntry.objects.order_by("id").first()
    with ledger_unlocked():
        for n, text in enumerate(AWKWARD_TEXTS):
            raw("UPDATE settlements_journalentry SET memo = %s WHERE id = %s", [text, entry.pk + n])
    for table in (JOURNAL_TABLE, "marketplace.orderevent"):
        # when the leaves are read from the database
        leaves = _leaves(table, 1, 10**12)
        # then each is the hash of the canonical JSON built here from the row's values
        expected = [(i, leaf_hash(row)) for i, row in _canonical_rows(table, 1, 10**12)]
        assert [(i, leaf) for i, _, leaf in leaves] == expected
        assert len(expected) > len(AWKWARD_TEXTS)


def test_a_seal_ends_on_a_settled_row_and_covers_the_unsettled_ones_before_it(exchange):
    # given order events of which every other one is too young to seal
    ids = list(OrderEvent.objects.order_by("id").values_list("id", flat=True))
    young = ids[1::2]
    an_hour = dt.timedelta(hours=1)
    OrderEvent.objects.update(created_at=timezone.now() - an_hour)
    OrderEvent.objects.filter(id__in=young).update(created_at=timezone.now() + an_hour)
    # when sealed two settled rows at a time
    chain_seal(batch_size=2, settle_seconds=60)
    # then each seal spans two settled rows and the young ones between them
    seals = list(ChainSeal.objects.filter(table="marketplace.orderevent").order_by("first_id"))
    settled = [i for i in ids if i not in set(young)]
    assert [s.last_id for s in seals] == settled[1::2] + ([settled[-1]] if len(settled) % 2 else [])
    assert [s.row_count for s in seals] == [
        len([i for i in ids if s.first_id <= i <= s.last_id]) for s in seals
    ]
    # and the young rows after the last settled one wait
    assert seals[-1].last_id == settled[-1]
    assert chain_verify(full=True)[0] == []

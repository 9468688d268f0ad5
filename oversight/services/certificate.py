"""交易凭证 trade certificate: the evidence of one order, for disputes, regulators and
数据资产入表 (booking data as an asset).

It carries the contract snapshot, every state change, every journal entry with
its postings, and for each of those rows the proof that it is in the hash
chain: the row's canonical form, its leaf hash, the Merkle path to its seal's
root, and the seal's fields and digest, with which anyone can recompute the
seal digest and compare it with the chain (GET /api/v1/chain-seals/).
"""

from django.utils import timezone

from core.money import fen_to_yuan
from delivery.services.downloads import delivery_evidence
from marketplace.choices import OrderStatus
from marketplace.models import Order, OrderEvent
from oversight.services.chain import JOURNAL_TABLE, row_proof
from settlements.models import JournalEntry

VERIFY_STEPS = [
    "leaf = sha256(canonical) as lowercase hex; it must equal leaf_hash.",
    "Walk merkle_proof from the leaf: for side 'left' node = sha256(hash + node), "
    "for side 'right' node = sha256(node + hash) (hex strings concatenated); the result "
    "must equal seal.merkle_root.",
    "seal.digest = sha256('previous_digest|sequence|table|first_id|last_id|row_count|"
    "merkle_root'); each seal's previous_digest is the digest of the seal before it.",
    "Compare seal.digest with the exchange's chain (GET /api/v1/chain-seals/?sequence=N).",
]


def trade_certificate(*, order: Order) -> dict:
    """The certificate of `order`; final once the order is cleared or settled.

    Rows not sealed yet (younger than the sealing delay) are listed with
    `sealed: false`; ask again after the next sealing run for their proof.
    """
    cache: dict = {}
    events = list(OrderEvent.objects.filter(subject=order).order_by("id"))
    entries = list(
        JournalEntry.objects.filter(order=order)
        .prefetch_related("postings__account")
        .order_by("id")
    )
    event_table = OrderEvent._meta.label_lower
    return {
        "certificate": "trade-certificate/v1",
        "generated_at": timezone.now().isoformat(),
        "is_final": order.status in (OrderStatus.CLEARED, OrderStatus.SETTLED),
        "order": {
            "id": order.pk,
            "number": order.number,
            "status": order.status,
            "buyer": {
                "id": order.buyer_id,
                "name": order.buyer.legal_name,
                "credit_code": order.buyer.credit_code,
            },
            "seller": {
                "id": order.seller_id,
                "name": order.seller.legal_name,
                "credit_code": order.seller.credit_code,
            },
            "product": {
                "id": order.product_id,
                "title": order.product.title,
                "registration_number": order.product.registration_number or "",
            },
            "quantity": order.quantity,
            "amount": fen_to_yuan(order.amount_fen),
            "refunded": fen_to_yuan(order.refunded_fen),
            "paid_at": order.paid_at and order.paid_at.isoformat(),
            "delivered_at": order.delivered_at and order.delivered_at.isoformat(),
            "accepted_at": order.accepted_at and order.accepted_at.isoformat(),
            "cleared_at": order.cleared_at and order.cleared_at.isoformat(),
            "settled_at": order.settled_at and order.settled_at.isoformat(),
        },
        "contract": order.contract,
        "state_changes": [
            {
                "from_status": e.from_status,
                "to_status": e.to_status,
                "at": e.created_at.isoformat(),
                "reason": e.reason,
                "proof": row_proof(event_table, e.pk, cache),
            }
            for e in events
        ],
        "journal_entries": [
            {
                "idempotency_key": entry.idempotency_key,
                "purpose": entry.purpose,
                "posted_at": entry.created_at.isoformat(),
                "postings": [
                    {
                        "account": str(p.account),
                        "account_kind": p.account.kind,
                        "amount": fen_to_yuan(p.amount_fen),
                    }
                    for p in entry.postings.all()
                ],
                "proof": row_proof(JOURNAL_TABLE, entry.pk, cache),
            }
            for entry in entries
        ],
        # The delivered file's hash and a digest of its download log (delivery app);
        # null for orders not delivered as a file through the exchange.
        "delivery": delivery_evidence(order=order),
        "how_to_verify": VERIFY_STEPS,
    }

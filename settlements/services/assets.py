"""数据资产入表 cost lines a merchant books against its own products."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation
from core.money import MAX_FEN
from core.scoping import scope_to_merchant
from products.models import Product
from settlements.models import ProductCostLine

COST_LINE_FIELDS = ("product", "incurred_on", "category", "amount_fen", "description")


def _own_product(*, actor: User, product: Product | int) -> Product:
    product_id = getattr(product, "pk", product)
    found = scope_to_merchant(Product.objects.all(), actor).filter(pk=product_id).first()
    if found is None:
        raise BusinessRuleViolation(_("no such product among yours"), field="product")
    return found


def _check_amount(amount_fen: int) -> None:
    if not 0 <= amount_fen <= MAX_FEN:
        raise BusinessRuleViolation(_("give a cost between 0 and 10^13 yuan"), field="amount")


@transaction.atomic
def cost_line_create(
    *,
    actor: User,
    product: Product | int,
    incurred_on: dt.date,
    category: str,
    amount_fen: int,
    description: str = "",
) -> ProductCostLine:
    """Book a cost against a product. Invariant: the product is the actor's merchant's own."""
    _check_amount(amount_fen)
    line = ProductCostLine(
        product=_own_product(actor=actor, product=product),
        incurred_on=incurred_on,
        category=category,
        amount_fen=amount_fen,
        description=description,
    )
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def cost_line_update(*, actor: User, line: ProductCostLine, **changes) -> ProductCostLine:
    """Correct a cost line; moving it to another product follows the same ownership rule."""
    unknown = set(changes) - set(COST_LINE_FIELDS)
    if unknown:
        raise BusinessRuleViolation(
            _("unknown field(s): %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    line = ProductCostLine.objects.select_for_update().get(pk=line.pk)
    if "product" in changes:
        changes["product"] = _own_product(actor=actor, product=changes["product"])
    if "amount_fen" in changes:
        _check_amount(changes["amount_fen"])
    for name, value in changes.items():
        setattr(line, name, value)
    line.full_clean()
    line.save(update_fields=[*changes, "updated_at"])
    return line


@transaction.atomic
def cost_line_delete(*, actor: User, line: ProductCostLine) -> None:
    """Cost lines are the merchant's own working records, not ledger rows: they may go."""
    _own_product(actor=actor, product=line.product_id)
    line.delete()

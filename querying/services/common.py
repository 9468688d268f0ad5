"""Checks the querying services share."""

import math
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation
from core.scoping import is_operator

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Words the engine's SQL parser (or PostgreSQL) reads as keywords: a column
# named like one would have to be quoted, and the engine takes unquoted names only.
RESERVED = frozenset(
    """all and any as asc avg between by case cast count create date day delete desc distinct
    else end exists false from full group having in inner insert into is join key left like
    limit month not null offset on or order outer right select set sum table then time
    timestamp top true union update user using values when where with year""".split()  # noqa: SIM905 (a word list reads better as text)
)


def require_operator(actor: User | None) -> None:
    if not is_operator(actor):
        raise BusinessRuleViolation(
            _("only exchange operators may do this"), field="actor", code="not_operator"
        )


def require_provider_or_operator(actor: User | None, provider_id: int) -> None:
    """The provider's people or an operator; None is the exchange itself (a command, a task)."""
    if actor is None or is_operator(actor):
        return
    if getattr(actor, "merchant_id", None) != provider_id:
        raise BusinessRuleViolation(
            _("only the provider's people may do this"), field="actor", code="not_provider"
        )


def check_identifier(value, *, field: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise BusinessRuleViolation(
            _(
                "a name of lower-case letters, digits and underscores, starting with a "
                "letter, at most 63 characters"
            ),
            field=field,
        )
    if value in RESERVED:
        raise BusinessRuleViolation(
            _("'%(name)s' is an SQL keyword; choose another name") % {"name": value}, field=field
        )
    return value


def to_decimal(value, *, field: str, minimum: Decimal | None = None) -> Decimal:
    """A finite decimal from a JSON number or string; booleans are not numbers."""
    if isinstance(value, bool) or value is None:
        raise BusinessRuleViolation(_("a number"), field=field)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise BusinessRuleViolation(_("a number"), field=field) from None
    if not number.is_finite() or (isinstance(value, float) and not math.isfinite(value)):
        raise BusinessRuleViolation(_("a finite number"), field=field)
    if minimum is not None and number < minimum:
        raise BusinessRuleViolation(_("at least %(minimum)s") % {"minimum": minimum}, field=field)
    return number

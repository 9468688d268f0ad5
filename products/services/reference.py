"""Industries and trading boards: reference data the operators keep."""

from django.db import transaction

from accounts.models import User
from products.models import Board, Industry
from products.services.common import full_clean_as_violation, require_operator


@transaction.atomic
def industry_save(
    *,
    actor: User,
    code: str,
    name: str,
    name_en: str = "",
    data_theme: str = "",
    is_active: bool = True,
) -> Industry:
    """Create or rename an industry by its code. Invariant: codes are never reused for
    another meaning, so an industry is closed (is_active=False), never deleted."""
    require_operator(actor)
    industry = Industry.objects.select_for_update().filter(code=code).first() or Industry(code=code)
    industry.name = name
    industry.name_en = name_en
    industry.data_theme = data_theme
    industry.is_active = is_active
    full_clean_as_violation(industry, exclude=["code"] if industry.pk else [])
    industry.save()
    return industry


@transaction.atomic
def board_save(
    *,
    actor: User,
    code: str,
    name: str,
    name_en: str = "",
    description: str = "",
    department=None,
    industries=(),
    is_active: bool = True,
) -> Board:
    """Create or update a 交易专板 trading board with its partner department and industries."""
    require_operator(actor)
    board = Board.objects.select_for_update().filter(code=code).first() or Board(code=code)
    board.name = name
    board.name_en = name_en
    board.description = description
    board.department = department
    board.is_active = is_active
    full_clean_as_violation(board, exclude=["code"] if board.pk else [])
    board.save()
    board.industries.set(industries)
    return board

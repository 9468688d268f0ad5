"""Writes for merchants and their people. Views, admin actions and commands call these."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.choices import KIND_FIELDS, MERCHANT_TRANSITIONS, MerchantRole, MerchantStatus
from accounts.credit_code import CreditCodeError, validate_credit_code
from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation, InvalidTransition
from core.scoping import is_merchant_owner, is_operator, merchant_id_of
from core.transitions import lock_one, transition

# Profile fields a merchant's own people may edit; status never.
MERCHANT_PROFILE_FIELDS = (
    "legal_name",
    "region",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "bank_name",
    "bank_account_name",
    "bank_account_number",
)


def _kind_flags(kinds: list[str]) -> dict[str, bool]:
    unknown = [kind for kind in kinds if kind not in KIND_FIELDS]
    if unknown:
        raise BusinessRuleViolation(
            _("unknown merchant kind(s): %(names)s") % {"names": ", ".join(unknown)}, field="kinds"
        )
    if not kinds:
        raise BusinessRuleViolation(_("name at least one merchant kind"), field="kinds")
    return {field: kind in kinds for kind, field in KIND_FIELDS.items()}


@transaction.atomic
def merchant_register(
    *,
    actor: User | None,
    legal_name: str,
    credit_code: str,
    kinds: list[str],
    region: str,
    contact_name: str,
    contact_phone: str,
    **profile: str,
) -> Merchant:
    """Register a merchant in status 'applied', awaiting an operator's approval.

    Invariant: the credit code is valid and not held by another merchant.
    """
    try:
        code = validate_credit_code(credit_code)
    except CreditCodeError as exc:
        raise BusinessRuleViolation(exc.message, field="credit_code", code=exc.rule) from exc
    existing = Merchant.objects.filter(credit_code=code).first()
    if existing is not None:
        raise BusinessRuleViolation(
            _("credit code %(code)s is already registered (merchant #%(pk)s)")
            % {"code": code, "pk": existing.pk},
            field="credit_code",
            code="unique",
        )
    unknown = set(profile) - set(MERCHANT_PROFILE_FIELDS)
    if unknown:
        raise BusinessRuleViolation(
            _("unknown field(s): %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    merchant = Merchant(
        legal_name=legal_name,
        credit_code=code,
        region=region,
        contact_name=contact_name,
        contact_phone=contact_phone,
        **_kind_flags(kinds),
        **profile,
    )
    merchant.full_clean()
    merchant.save()
    merchant.events.create(
        actor=actor if getattr(actor, "pk", None) else None,
        from_status="",
        to_status=MerchantStatus.APPLIED,
        reason="registered",
    )
    return merchant


@transaction.atomic
def merchant_update_profile(
    *, actor: User, merchant: Merchant, kinds: list[str] | None = None, **changes: str
) -> Merchant:
    """Change a merchant's profile (never its status or credit code).

    Invariant: only an operator or the merchant's own owner changes it; the
    bank account payouts go to is the owner's to give, never staff's.
    """
    if not is_operator(actor) and not (
        is_merchant_owner(actor) and merchant_id_of(actor) == merchant.pk
    ):
        raise PermissionDenied(_("only the merchant's owner changes its profile and bank account"))
    return merchant_profile_write(merchant=merchant, kinds=kinds, **changes)


def merchant_profile_write(
    *, merchant: Merchant, kinds: list[str] | None = None, **changes: str
) -> Merchant:
    """Write profile fields. The caller has decided who may: merchant_update_profile for
    people, the joining resubmission for an applicant holding its signed link."""
    unknown = set(changes) - set(MERCHANT_PROFILE_FIELDS)
    if unknown:
        raise BusinessRuleViolation(
            _("these fields cannot be changed here: %(names)s")
            % {"names": ", ".join(sorted(unknown))}
        )
    merchant = lock_one(Merchant, merchant.pk)
    updates: dict[str, object] = dict(changes)
    if kinds is not None:
        updates.update(_kind_flags(kinds))
    for field, value in updates.items():
        setattr(merchant, field, value)
    merchant.full_clean()
    merchant.save(update_fields=[*updates, "updated_at"])
    return merchant


def _merchant_move(
    *,
    actor: User,
    merchant: Merchant,
    to: str,
    reason: str,
    only_from: tuple[str, ...] | None = None,
) -> Merchant:
    merchant = lock_one(Merchant, merchant.pk)
    if only_from is not None and merchant.status != to and merchant.status not in only_from:
        # The table allows the move, but this verb names a narrower one
        # (approving is for applicants, reinstating for the suspended).
        raise InvalidTransition(
            model_label=str(Merchant._meta.verbose_name), current=merchant.status, target=to
        )
    changed = transition(
        merchant, to=to, actor=actor, reason=reason, transitions=MERCHANT_TRANSITIONS
    )
    if changed:
        _after_status_change(actor=actor, merchant=merchant, reason=reason)
    return merchant


def _after_status_change(*, actor: User, merchant: Merchant, reason: str) -> None:
    """Carry a merchant's new status over to what depends on it (its listed products)."""
    from products.services import products_follow_merchant_status

    products_follow_merchant_status(actor=actor, merchant=merchant, reason=reason)


@transaction.atomic
def merchant_approve(*, actor: User, merchant: Merchant, reason: str = "") -> Merchant:
    """applied -> active: the operator has checked the merchant's documents."""
    return _merchant_move(
        actor=actor,
        merchant=merchant,
        to=MerchantStatus.ACTIVE,
        reason=reason,
        only_from=(MerchantStatus.APPLIED,),
    )


@transaction.atomic
def merchant_suspend(*, actor: User, merchant: Merchant, reason: str) -> Merchant:
    """active -> suspended; its listed products are suspended with it."""
    return _merchant_move(
        actor=actor, merchant=merchant, to=MerchantStatus.SUSPENDED, reason=reason
    )


@transaction.atomic
def merchant_reinstate(*, actor: User, merchant: Merchant, reason: str) -> Merchant:
    """suspended -> active; products suspended because of the merchant come back."""
    return _merchant_move(
        actor=actor,
        merchant=merchant,
        to=MerchantStatus.ACTIVE,
        reason=reason,
        only_from=(MerchantStatus.SUSPENDED,),
    )


@transaction.atomic
def merchant_exit(*, actor: User, merchant: Merchant, reason: str) -> Merchant:
    """Any status -> exited, final. Its products stay suspended for good."""
    return _merchant_move(actor=actor, merchant=merchant, to=MerchantStatus.EXITED, reason=reason)


@transaction.atomic
def person_create(
    *,
    username: str,
    password: str | None = None,
    merchant: Merchant | None = None,
    role: str = "",
    is_operator: bool = False,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a person: an operator, or one of a merchant's owner or staff.

    With no password the person gets an unusable one and sets their own
    through a one-time link (see accounts.services.joining).

    Both kinds may sign in to the admin (is_staff); what they see there is
    decided by core.scoping, not by Django's per-model permissions.
    """
    if is_operator and merchant is not None:
        raise BusinessRuleViolation(_("an operator belongs to no merchant"), field="merchant")
    if merchant is not None and role not in MerchantRole.values:
        raise BusinessRuleViolation(_("a merchant's person is its owner or staff"), field="role")
    if not is_operator and merchant is None:
        raise BusinessRuleViolation(_("name the merchant this person works for"), field="merchant")
    if User.objects.filter(username=username).exists():
        raise BusinessRuleViolation(_("this username is taken"), field="username", code="unique")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_operator=is_operator,
        is_staff=True,
        merchant=merchant,
        merchant_role=role if merchant is not None else "",
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise BusinessRuleViolation(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            field=next(iter(exc.message_dict)),
        ) from exc
    user.save()
    return user

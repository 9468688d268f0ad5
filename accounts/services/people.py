"""A merchant's people and the exchange's operators: adding, editing, deactivating.

The rule every verb here keeps: nobody grants a right they do not hold. An
operator adds operators and any merchant's people; only a superuser makes a
superuser or touches one; a merchant's owner adds, edits and deactivates its
own staff and nobody else. Staff manage no one. Nobody deactivates
themselves, so a merchant is never left without the owner who signed in.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.choices import MerchantRole
from accounts.models import Merchant, User
from accounts.services import person_create
from core.exceptions import BusinessRuleViolation
from core.scoping import is_merchant_owner, is_operator, merchant_id_of
from core.transitions import lock_one

# What an owner or an operator may edit about a person after creation. The
# role, the merchant and the rights are not edited: a person who changes
# company or role gets a new account, so history keeps who acted as what.
PERSON_PROFILE_FIELDS = ("first_name", "last_name", "email")


def person_may_manage(actor: User | None, person: User) -> bool:
    """Whether `actor` may edit, deactivate or reactivate `person`."""
    if actor is None or getattr(actor, "pk", None) == person.pk:
        return False
    if person.is_superuser:
        return bool(getattr(actor, "is_superuser", False) and actor.is_active)
    if is_operator(actor):
        return True
    return (
        is_merchant_owner(actor)
        and person.merchant_id is not None
        and person.merchant_id == merchant_id_of(actor)
        and person.merchant_role == MerchantRole.STAFF
    )


def _require_may_manage(actor: User | None, person: User) -> None:
    if getattr(actor, "pk", None) == person.pk:
        raise PermissionDenied(_("you cannot change your own rights or deactivate yourself"))
    if not person_may_manage(actor, person):
        raise PermissionDenied(_("you may not manage this person"))


def _require_may_grant(
    actor, *, merchant: Merchant | None, role: str, is_operator_role: bool, is_superuser: bool
) -> None:
    """Refuse to create a person with rights the actor does not hold."""
    if is_superuser and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("only a superuser may make a superuser"))
    if is_operator(actor):
        return
    if is_operator_role:
        raise PermissionDenied(_("only exchange operators may add operators"))
    if not is_merchant_owner(actor):
        raise PermissionDenied(_("only the merchant's owner adds its people"))
    if merchant is None or merchant.pk != merchant_id_of(actor):
        raise PermissionDenied(_("you add people to your own merchant only"))
    if role != MerchantRole.STAFF:
        raise PermissionDenied(_("an owner adds staff; owners are added by the operators"))


@transaction.atomic
def person_add(
    *,
    actor: User,
    username: str,
    merchant: Merchant | None = None,
    role: str = "",
    is_operator_role: bool = False,
    is_superuser: bool = False,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Add an operator, or an owner or staff member of a merchant, within the actor's rights.

    Invariant: the new person has exactly one role (see User) and no right
    the actor lacks. Without a password the person sets one through the
    password reset link.
    """
    username = (username or "").strip()
    if not username:
        raise BusinessRuleViolation(_("give a username"), field="username", code="required")
    if is_superuser and not is_operator_role:
        raise BusinessRuleViolation(
            _("a superuser is an exchange operator"), field="is_superuser", code="invalid"
        )
    _require_may_grant(
        actor,
        merchant=merchant,
        role=role,
        is_operator_role=is_operator_role,
        is_superuser=is_superuser,
    )
    person = person_create(
        username=username,
        password=password,
        merchant=merchant,
        role=role,
        is_operator=is_operator_role,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    if is_superuser:
        person.is_superuser = True
        person.save(update_fields=["is_superuser"])
    return person


@transaction.atomic
def person_update(*, actor: User, person: User, **changes: str) -> User:
    """Change a person's name or e-mail (never role, merchant or rights)."""
    unknown = set(changes) - set(PERSON_PROFILE_FIELDS)
    if unknown:
        raise BusinessRuleViolation(
            _("these fields cannot be changed here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    _require_may_manage(actor, person)
    person = lock_one(User, person.pk)
    for field, value in changes.items():
        setattr(person, field, value)
    if changes:
        person.full_clean(exclude=["password"])
        person.save(update_fields=list(changes))
    return person


@transaction.atomic
def person_set_active(*, actor: User, person: User, is_active: bool) -> User:
    """Deactivate (the person can no longer sign in; tokens stop working) or reactivate.

    Deactivating keeps the account, so what the person did stays attributed.
    Asking for the state a person already has changes nothing.
    """
    _require_may_manage(actor, person)
    person = lock_one(User, person.pk)
    if person.is_active != is_active:
        person.is_active = is_active
        person.save(update_fields=["is_active"])
    return person


def person_deactivate(*, actor: User, person: User) -> User:
    return person_set_active(actor=actor, person=person, is_active=False)


def person_reactivate(*, actor: User, person: User) -> User:
    return person_set_active(actor=actor, person=person, is_active=True)

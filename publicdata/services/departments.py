"""Writes for departments and their catalog entries: reference data kept by operators."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation
from core.transitions import lock_one
from publicdata.choices import (
    GRANT_IN_FORCE,
    DepartmentLevel,
)
from publicdata.models import (
    CatalogEntry,
    Department,
    Grant,
)

DEPARTMENT_FIELDS = ("name", "level", "region")
CATALOG_ENTRY_FIELDS = ("name", "fields", "grade", "update_frequency")


@transaction.atomic
def department_create(
    *, actor: User | None, code: str, name: str, level: str, region: str = ""
) -> Department:
    """Register a data-holding department. Invariant: its code is unique."""
    if Department.objects.filter(code=code).exists():
        raise BusinessRuleViolation(
            _("A department with code %(code)s exists already.") % {"code": code},
            field="code",
            code="unique",
        )
    if level not in DepartmentLevel.values:
        raise BusinessRuleViolation(_("Unknown level."), field="level")
    department = Department(code=code, name=name, level=level, region=region)
    department.full_clean()
    department.save()
    return department


@transaction.atomic
def department_update(*, actor: User | None, department: Department, **changes) -> Department:
    """Change a department's name, level or region; its code identifies it for good."""
    unknown = set(changes) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise BusinessRuleViolation(
            _("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    department = lock_one(Department, department.pk)
    for field, value in changes.items():
        setattr(department, field, value)
    department.full_clean()
    department.save(update_fields=list(changes) or None)
    return department


@transaction.atomic
def catalog_entry_create(
    *,
    actor: User | None,
    department: Department,
    code: str,
    name: str,
    fields: str = "",
    grade: str = "general",
    update_frequency: str = "",
) -> CatalogEntry:
    """Register a resource in a department's data catalog (数据目录). Codes are unique."""
    if CatalogEntry.objects.filter(code=code).exists():
        raise BusinessRuleViolation(
            _("A catalog entry with code %(code)s exists already.") % {"code": code},
            field="code",
            code="unique",
        )
    entry = CatalogEntry(
        department=department,
        code=code,
        name=name,
        fields=fields,
        grade=grade,
        update_frequency=update_frequency,
    )
    entry.full_clean()
    entry.save()
    # A grant covers all of its department's entries, including ones registered later.
    for grant in Grant.objects.filter(department=department, status__in=GRANT_IN_FORCE):
        grant.entries.add(entry)
    return entry


@transaction.atomic
def catalog_entry_update(*, actor: User | None, entry: CatalogEntry, **changes) -> CatalogEntry:
    """Change an entry's description; its code and department never change."""
    unknown = set(changes) - set(CATALOG_ENTRY_FIELDS)
    if unknown:
        raise BusinessRuleViolation(
            _("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    entry = lock_one(CatalogEntry, entry.pk)
    for field, value in changes.items():
        setattr(entry, field, value)
    entry.full_clean()
    entry.save(update_fields=list(changes) or None)
    return entry

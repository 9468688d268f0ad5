"""Writes for public data, one module per concern:

- departments: departments and their catalog entries (reference data, operators only)
- grants: creating, editing, activating, suspending, reinstating and revoking grants
- scenarios: proposing, assessing and authorizing the scenarios a grant's data serves
- expiry: the hourly task's pass over grants and scenarios whose window has ended

Views, admin actions, the beat task and the demo seeder call these through this
package (`from publicdata import services`), which names every public service.
"""

from publicdata.services.departments import (
    CATALOG_ENTRY_FIELDS,
    DEPARTMENT_FIELDS,
    catalog_entry_create,
    catalog_entry_update,
    department_create,
    department_update,
)
from publicdata.services.expiry import ExpirySummary, grants_expire
from publicdata.services.grants import (
    GRANT_EDITABLE_FIELDS,
    grant_activate,
    grant_create,
    grant_reinstate,
    grant_revoke,
    grant_suspend,
    grant_update,
)
from publicdata.services.scenarios import scenario_assess, scenario_authorize, scenario_create

__all__ = [
    "CATALOG_ENTRY_FIELDS",
    "DEPARTMENT_FIELDS",
    "GRANT_EDITABLE_FIELDS",
    "ExpirySummary",
    "catalog_entry_create",
    "catalog_entry_update",
    "department_create",
    "department_update",
    "grant_activate",
    "grant_create",
    "grant_reinstate",
    "grant_revoke",
    "grant_suspend",
    "grant_update",
    "grants_expire",
    "scenario_assess",
    "scenario_authorize",
    "scenario_create",
]

"""一行业一部门一授权 held by PostgreSQL itself.

An exclusion constraint: no two grants in force (pending, active, suspended) for
the same industry and department may have overlapping half-open windows. It needs
btree_gist (equality on integer columns inside a GiST index). Only PostgreSQL
gets it; SQLite (the embedded single-user default) relies on the service's check
under a lock, SQLite serialising writers anyway. The constraint is kept out of
the model state on purpose, so no other database is asked to build it.
"""

from django.db import migrations

CONSTRAINT = "grant_one_in_force_per_industry_department"

CREATE = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE publicdata_grant ADD CONSTRAINT {CONSTRAINT}
    EXCLUDE USING gist (
        industry_id WITH =,
        department_id WITH =,
        tstzrange(valid_from, valid_until, '[)') WITH &&
    )
    WHERE (status IN ('pending', 'active', 'suspended'));
"""

DROP = f"ALTER TABLE publicdata_grant DROP CONSTRAINT IF EXISTS {CONSTRAINT};"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("publicdata", "0002_scenario_assessment_authorization"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]

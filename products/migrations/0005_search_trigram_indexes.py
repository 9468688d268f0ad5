"""Trigram indexes behind the product list's text search (PostgreSQL only).

DRF's SearchFilter matches `UPPER(col) LIKE UPPER('%term%')`, which no b-tree
can serve; a GIN trigram index on UPPER(col) can. SQLite (the embedded
default) has no such index and needs none at its scale, so there the
operation does nothing.
"""

from django.db import migrations

COLUMNS = ("title", "summary", "tags")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS product_{column}_trgm ON products_product "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS product_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("products", "0004_review_revision_version")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

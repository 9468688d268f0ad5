from django.db import migrations

from settlements.migrations_sql import BACKWARD, FORWARD


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    """Ledger rows are insert-only: PostgreSQL refuses UPDATE and DELETE on them."""

    dependencies = [("settlements", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]

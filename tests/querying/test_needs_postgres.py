"""On a database other than PostgreSQL the query service says what it needs, and does nothing."""

import pytest
from django.db import connection

from core.exceptions import BusinessRuleViolation
from querying.services import datasets
from tests.factories.marketplace import person_of
from tests.factories.querying import privacy_product
from tests.querying.data import COLUMNS


@pytest.mark.django_db
def test_declaring_a_data_set_without_postgres_says_it_needs_postgres(monkeypatch):
    product = privacy_product()
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(BusinessRuleViolation) as exc:
        datasets.dataset_declare(
            actor=person_of(product.provider),
            product=product,
            columns=COLUMNS,
            unit_column="person_id",
        )
    assert exc.value.code == "needs_postgresql"
    assert "PostgreSQL" in exc.value.message
    monkeypatch.undo()
    assert not product.query_datasets.exists()

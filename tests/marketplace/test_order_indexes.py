"""The order tables carry only the indexes they are read by (PostgreSQL's catalog)."""

import pytest
from django.db import connection

from marketplace.models import Order, OrderEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _indexes(model) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [model._meta.db_table],
        )
        return dict(cursor.fetchall())


def test_an_order_event_is_indexed_by_order_and_by_the_person_who_moved_it_only():
    indexes = _indexes(OrderEvent)
    columns = sorted(d.split("(", 1)[1] for d in indexes.values())
    assert columns == ["actor_id) WHERE (actor_id IS NOT NULL)", "id)", "subject_id)"], indexes


def test_an_order_number_is_unique_without_a_pattern_index():
    indexes = _indexes(Order)
    on_number = [d for d in indexes.values() if "(number" in d]
    assert on_number == [
        f"CREATE UNIQUE INDEX one_order_per_number ON public.{Order._meta.db_table} "
        "USING btree (number)"
    ]

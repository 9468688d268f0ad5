"""The read-replica router: which reads may go to the replica, and read-your-writes."""

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from accounts.models import Merchant
from core.db_routers import PRIMARY, REPLICA, ReplicaReadsMiddleware, ReplicaRouter
from products.models import Product
from settlements.models import Posting

# The router's decisions only; which server `replica` is does not matter to them.
WITH_REPLICA = override_settings(
    REPLICA_DATABASE_URL="postgres://replica.invalid/exchange",
    REPLICA_READ_APPS=["products", "publicdata", "settlements"],
)


def _answer(method: str, view) -> dict:
    """What the router decided while a request of `method` was answered by `view`."""
    seen: dict = {}

    def get_response(request):
        view(seen)
        return HttpResponse()

    request = RequestFactory().generic(method, "/api/v1/market/products/")
    ReplicaReadsMiddleware(get_response)(request)
    return seen


def test_the_router_is_off_unless_a_replica_is_configured():
    # given the default settings (no REPLICA_DATABASE_URL)
    assert not settings.REPLICA_DATABASE_URL
    assert REPLICA not in settings.DATABASES
    assert "core.db_routers.ReplicaRouter" not in settings.DATABASE_ROUTERS
    # then even a safe request's market read stays on the primary
    router = ReplicaRouter()
    seen = _answer("GET", lambda s: s.update(read=router.db_for_read(Product)))
    assert seen["read"] == PRIMARY


@WITH_REPLICA
def test_a_safe_request_reads_market_and_statements_from_the_replica():
    router = ReplicaRouter()

    def view(seen):
        seen["product"] = router.db_for_read(Product)
        seen["posting"] = router.db_for_read(Posting)
        # merchants and people (sign-in, scoping) are not in REPLICA_READ_APPS
        seen["merchant"] = router.db_for_read(Merchant)

    seen = _answer("GET", view)
    assert seen == {"product": REPLICA, "posting": REPLICA, "merchant": PRIMARY}


@WITH_REPLICA
def test_after_its_first_write_a_request_reads_its_writes_from_the_primary():
    router = ReplicaRouter()

    def view(seen):
        seen["before"] = router.db_for_read(Product)
        seen["write"] = router.db_for_write(Product)
        seen["after"] = router.db_for_read(Product)

    seen = _answer("GET", view)
    assert seen == {"before": REPLICA, "write": PRIMARY, "after": PRIMARY}
    # and the next request starts afresh
    assert _answer("GET", lambda s: s.update(read=router.db_for_read(Product)))["read"] == REPLICA


@WITH_REPLICA
@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_unsafe_requests_read_only_the_primary(method):
    router = ReplicaRouter()
    seen = _answer(method, lambda s: s.update(read=router.db_for_read(Product)))
    assert seen["read"] == PRIMARY


@WITH_REPLICA
@pytest.mark.django_db
def test_reads_inside_a_transaction_stay_on_the_primary():
    router = ReplicaRouter()

    def view(seen):
        with transaction.atomic():
            seen["inside"] = router.db_for_read(Product)

    # the test's own transaction is open, as a service's would be
    assert _answer("GET", view)["inside"] == PRIMARY


@WITH_REPLICA
def test_background_jobs_read_only_the_primary():
    # outside any request (a Celery task, a management command)
    router = ReplicaRouter()
    assert router.db_for_read(Posting) == PRIMARY
    assert router.allow_migrate(REPLICA, "products") is False
    assert router.allow_migrate(PRIMARY, "products") is True

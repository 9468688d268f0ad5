"""Grants: 一行业一部门一授权, the lifecycle, and what it does to products."""

import datetime as dt

import pytest
from django.utils import timezone

from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from publicdata import services
from publicdata.models import Grant
from tests.factories.accounts import MerchantFactory
from tests.factories.products import IndustryFactory
from tests.factories.publicdata import CatalogEntryFactory, DepartmentFactory, GrantFactory
from tests.publicdata.conftest import make_public_product

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def new_grant(*, department, industry, grantee, start_days=0, end_days=365, **kwargs):
    return services.grant_create(
        actor=None,
        department=department,
        industry=industry,
        grantee=grantee,
        valid_from=NOW + dt.timedelta(days=start_days),
        valid_until=NOW + dt.timedelta(days=end_days),
        revenue_share_bps=kwargs.pop("revenue_share_bps", 1500),
        fee_ceiling_fen=kwargs.pop("fee_ceiling_fen", 50_000_00),
        **kwargs,
    )


@pytest.fixture
def department():
    return DepartmentFactory(code="HN-WEATHER", name="Hunan Meteorological Bureau")


@pytest.fixture
def weather():
    return IndustryFactory(code="weather", name="Weather")


class TestGrantCreate:
    def test_creates_a_pending_grant_covering_all_department_entries(
        self, department, weather, merchant_a, operator
    ):
        # given a department with two catalog entries (and one of another department)
        entries = CatalogEntryFactory.create_batch(2, department=department)
        CatalogEntryFactory()
        # when a grant is recorded without naming entries
        grant = services.grant_create(
            actor=operator,
            department=department,
            industry=weather,
            grantee=merchant_a,
            valid_from=NOW,
            valid_until=NOW + dt.timedelta(days=30),
            revenue_share_bps=2000,
            fee_ceiling_fen=1_000_00,
        )
        # then it is pending, covers the department's entries, and the creation is recorded
        assert grant.status == "pending"
        assert set(grant.entries.all()) == set(entries)
        event = grant.events.get()
        assert (event.from_status, event.to_status, event.actor) == ("", "pending", operator)

    def test_entries_of_another_department_are_refused(self, department, weather, merchant_a):
        foreign = CatalogEntryFactory()
        with pytest.raises(BusinessRuleViolation) as exc:
            new_grant(
                department=department, industry=weather, grantee=merchant_a, entries=[foreign]
            )
        assert exc.value.field == "entries"
        assert not Grant.objects.exists()

    def test_second_grant_for_same_industry_and_department_overlapping_is_refused(
        self, department, weather, merchant_a, merchant_b
    ):
        # given a grant in force
        first = new_grant(department=department, industry=weather, grantee=merchant_a)
        # when another operator is granted the same industry at the same department
        with pytest.raises(Conflict) as exc:
            new_grant(
                department=department,
                industry=weather,
                grantee=merchant_b,
                start_days=100,
                end_days=500,
            )
        # then the answer names the grant in force, its window and grantee
        assert exc.value.code == "grant_in_force"
        assert exc.value.extra["conflicting_grant"]["id"] == first.pk
        assert exc.value.extra["conflicting_grant"]["grantee"] == merchant_a.pk
        assert f"授权 {first.pk}" in exc.value.message
        assert "待审核" in exc.value.message
        assert Grant.objects.count() == 1

    def test_windows_that_only_touch_do_not_overlap(self, department, weather, merchant_a):
        new_grant(department=department, industry=weather, grantee=merchant_a, end_days=30)
        second = new_grant(
            department=department, industry=weather, grantee=merchant_a, start_days=30, end_days=60
        )
        assert second.status == "pending"

    def test_other_industry_or_department_is_free(self, department, weather, merchant_a):
        new_grant(department=department, industry=weather, grantee=merchant_a)
        new_grant(department=department, industry=IndustryFactory(), grantee=merchant_a)
        new_grant(department=DepartmentFactory(), industry=weather, grantee=merchant_a)
        assert Grant.objects.count() == 3

    @pytest.mark.parametrize("ended_as", ["revoked", "expired"])
    def test_ended_grants_no_longer_occupy_the_window(
        self, department, weather, merchant_a, merchant_b, ended_as
    ):
        GrantFactory(department=department, industry=weather, grantee=merchant_a, status=ended_as)
        grant = new_grant(department=department, industry=weather, grantee=merchant_b)
        assert grant.grantee == merchant_b

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"end_days": 0}, "valid_until"),
            ({"end_days": -5}, "valid_until"),
            ({"revenue_share_bps": 10_001}, "revenue_share_bps"),
            ({"revenue_share_bps": -1}, "revenue_share_bps"),
            ({"fee_ceiling_fen": -1}, "fee_ceiling_fen"),
        ],
    )
    def test_bad_terms_name_the_field(self, department, weather, merchant_a, change, field):
        with pytest.raises(BusinessRuleViolation) as exc:
            new_grant(department=department, industry=weather, grantee=merchant_a, **change)
        assert exc.value.field == field

    def test_grantee_must_be_active(self, department, weather):
        applicant = MerchantFactory(status="applied")
        with pytest.raises(BusinessRuleViolation) as exc:
            new_grant(department=department, industry=weather, grantee=applicant)
        assert exc.value.field == "grantee"


class TestGrantUpdate:
    def test_pending_grant_window_change_is_checked_for_overlap(
        self, department, weather, merchant_a
    ):
        new_grant(department=department, industry=weather, grantee=merchant_a, end_days=30)
        later = new_grant(
            department=department, industry=weather, grantee=merchant_a, start_days=30, end_days=60
        )
        with pytest.raises(Conflict):
            services.grant_update(actor=None, grant=later, valid_from=NOW + dt.timedelta(days=10))
        later.refresh_from_db()
        assert later.valid_from == NOW + dt.timedelta(days=30)

    def test_active_grant_terms_are_fixed(self, grant):
        with pytest.raises(Conflict):
            services.grant_update(actor=None, grant=grant, fee_ceiling_fen=1)


class TestGrantLifecycle:
    def test_activate_then_suspend_reinstate_revoke_are_recorded(
        self, department, weather, merchant_a, operator
    ):
        grant = new_grant(department=department, industry=weather, grantee=merchant_a)
        services.grant_activate(actor=operator, grant=grant)
        services.grant_suspend(actor=operator, grant=grant, reason="audit")
        services.grant_reinstate(actor=operator, grant=grant, reason="audit closed")
        services.grant_revoke(actor=operator, grant=grant, reason="breach")
        moves = list(grant.events.values_list("from_status", "to_status", "reason"))
        assert moves == [
            ("", "pending", ""),
            ("pending", "active", ""),
            ("active", "suspended", "audit"),
            ("suspended", "active", "audit closed"),
            ("active", "revoked", "breach"),
        ]

    def test_same_state_again_is_a_no_op(self, grant, operator):
        services.grant_activate(actor=operator, grant=grant)
        services.grant_suspend(actor=operator, grant=grant, reason="x")
        services.grant_suspend(actor=operator, grant=grant, reason="again")
        assert grant.events.count() == 1

    def test_revoked_grant_cannot_return(self, grant, operator):
        services.grant_revoke(actor=operator, grant=grant, reason="breach")
        with pytest.raises(InvalidTransition):
            services.grant_reinstate(actor=operator, grant=grant, reason="please")
        with pytest.raises(InvalidTransition):
            services.grant_activate(actor=operator, grant=grant)

    def test_reinstate_is_only_for_suspended_grants(self, department, weather, merchant_a):
        grant = new_grant(department=department, industry=weather, grantee=merchant_a)
        with pytest.raises(InvalidTransition):
            services.grant_reinstate(actor=None, grant=grant, reason="skip activation")

    def test_revocation_needs_a_reason(self, grant):
        with pytest.raises(BusinessRuleViolation) as exc:
            services.grant_revoke(actor=None, grant=grant, reason=" ")
        assert exc.value.field == "reason"

    def test_grant_past_its_window_cannot_be_activated(self, department, weather, merchant_a):
        grant = GrantFactory(
            department=department,
            industry=weather,
            grantee=merchant_a,
            status="pending",
            valid_from=NOW - dt.timedelta(days=10),
            valid_until=NOW - dt.timedelta(days=1),
        )
        with pytest.raises(BusinessRuleViolation):
            services.grant_activate(actor=None, grant=grant)


class TestGrantProducts:
    @pytest.mark.parametrize("verb", ["suspend", "revoke"])
    def test_suspending_or_revoking_suspends_its_listed_products_at_once(
        self, public_product, grant, operator, verb
    ):
        # given a listed product under the grant, and a draft one
        draft = make_public_product(grant, status="draft", registration_number=None)
        # when the grant is suspended or revoked
        getattr(services, f"grant_{verb}")(actor=operator, grant=grant, reason="breach")
        # then the listed product is suspended because of the grant, and it is recorded
        public_product.refresh_from_db()
        assert (public_product.status, public_product.suspension_cause) == ("suspended", "grant")
        event = public_product.events.latest("id")
        assert (event.to_status, event.actor) == ("suspended", operator)
        assert "breach" in event.reason
        draft.refresh_from_db()
        assert draft.status == "draft"

    def test_reinstating_the_grant_reinstates_its_products(self, public_product, grant, operator):
        services.grant_suspend(actor=operator, grant=grant, reason="audit")
        services.grant_reinstate(actor=operator, grant=grant, reason="cleared")
        public_product.refresh_from_db()
        assert (public_product.status, public_product.suspension_cause) == ("listed", "")

    def test_reinstating_leaves_products_suspended_for_another_cause(
        self, public_product, grant, operator
    ):
        from products.services import product_suspend

        product_suspend(actor=operator, product=public_product, reason="complaint")
        services.grant_suspend(actor=operator, grant=grant, reason="audit")
        services.grant_reinstate(actor=operator, grant=grant, reason="cleared")
        public_product.refresh_from_db()
        assert (public_product.status, public_product.suspension_cause) == (
            "suspended",
            "operator",
        )

    def test_reinstating_keeps_out_a_product_whose_scenario_lapsed(
        self, public_product, grant, scenario, operator
    ):
        services.grant_suspend(actor=operator, grant=grant, reason="audit")
        scenario.status = "expired"
        scenario.save()
        services.grant_reinstate(actor=operator, grant=grant, reason="cleared")
        public_product.refresh_from_db()
        assert public_product.status == "suspended"

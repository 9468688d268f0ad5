import pytest

from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from products import services
from products.choices import PRODUCT_TRANSITIONS, ProductStatus
from products.models import Product, ProductReview, ProductVersion
from tests.factories.products import ALL_TICKED, ProductFactory

pytestmark = pytest.mark.django_db


def test_full_listing_path_records_every_move_and_issues_a_registration_number(
    owner_a, operator, make_draft
):
    # given a complete draft
    product = make_draft(owner_a)
    # when it is submitted, reviewed and approved
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    product = services.product_approve(actor=operator, product=product, **ALL_TICKED)
    # then it is listed, registered and every move is an event with its actor
    assert product.status == ProductStatus.LISTED
    assert product.registration_number.startswith("HNDP-")
    assert product.listed_at is not None
    moves = [(e.from_status, e.to_status, e.actor_id) for e in product.events.all()]
    assert moves == [
        ("", "draft", owner_a.pk),
        ("draft", "submitted", owner_a.pk),
        ("submitted", "in_review", operator.pk),
        ("in_review", "listed", operator.pk),
    ]
    review = ProductReview.objects.get(product=product)
    assert review.verdict == "approved"
    assert review.decided_by == operator
    assert review.reviewer == operator
    assert ProductVersion.objects.get(product=product).number == 1


def test_reject_sends_the_product_back_to_draft_with_the_reviewers_comments(
    owner_a, operator, make_draft
):
    # given a product in review
    product = make_draft(owner_a)
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    # when the operator rejects it
    product = services.product_reject(
        actor=operator, product=product, comments="The sample lacks the rainfall column."
    )
    # then it is a draft again and the comments are on the review for the merchant
    assert product.status == ProductStatus.DRAFT
    review = ProductReview.objects.get(product=product)
    assert review.verdict == "rejected"
    assert "rainfall column" in review.comments
    # and a second submission opens a second review record
    services.product_submit(actor=owner_a, product=product)
    assert ProductReview.objects.filter(product=product).count() == 2


def test_reject_without_comments_is_refused_naming_the_field(owner_a, operator, make_draft):
    product = make_draft(owner_a)
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_reject(actor=operator, product=product, comments="  ")
    assert err.value.field == "comments"
    assert Product.objects.get(pk=product.pk).status == ProductStatus.IN_REVIEW


def test_core_grade_data_can_never_be_submitted(owner_a, make_draft):
    # given a draft graded core
    product = make_draft(owner_a, grade="core")
    # when it is submitted
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_submit(actor=owner_a, product=product)
    # then the grade is named and nothing changed
    assert err.value.field == "grade"
    assert err.value.code == "core_data"
    assert "核心数据" in err.value.message
    assert Product.objects.get(pk=product.pk).status == ProductStatus.DRAFT
    assert not ProductReview.objects.filter(product=product).exists()


def test_submission_needs_every_manual_section_and_a_plan(owner_a, industry):
    product = services.product_create(
        actor=owner_a,
        provider=owner_a.merchant,
        title="Bare",
        industry=industry,
        delivery_mode="file",
    )
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_submit(actor=owner_a, product=product)
    assert err.value.field == "manual_data_source"


def test_submission_without_a_plan_names_plans(owner_a, make_draft):
    product = make_draft(owner_a)
    for plan in product.plans.all():
        services.plan_delete(actor=owner_a, plan=plan)
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_submit(actor=owner_a, product=product)
    assert err.value.field == "plans"


def test_important_grade_needs_two_different_operators(
    owner_a, operator, second_operator, make_draft
):
    # given an important-grade product in review
    product = make_draft(owner_a, grade="important")
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    # when one operator approves
    product = services.product_approve(actor=operator, product=product, **ALL_TICKED)
    # then it is still in review, with the first approval recorded
    assert product.status == ProductStatus.IN_REVIEW
    review = ProductReview.objects.get(product=product)
    assert review.first_approver == operator
    assert review.verdict == "pending"
    # when the same operator approves again, it is refused
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_approve(actor=operator, product=product, **ALL_TICKED)
    assert err.value.code == "same_approver"
    assert Product.objects.get(pk=product.pk).status == ProductStatus.IN_REVIEW
    # when a second operator approves, it is listed
    product = services.product_approve(actor=second_operator, product=product, **ALL_TICKED)
    assert product.status == ProductStatus.LISTED
    review.refresh_from_db()
    assert (review.first_approver, review.decided_by) == (operator, second_operator)


def test_general_grade_is_listed_by_one_approval(owner_a, make_listed):
    assert make_listed(owner_a).status == ProductStatus.LISTED


def test_approval_with_an_unticked_checklist_item_is_refused(owner_a, operator, make_draft):
    product = make_draft(owner_a)
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    checklists = {**ALL_TICKED, "quality_checklist": {"manual_complete": True}}
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_approve(actor=operator, product=product, **checklists)
    assert err.value.field == "quality_checklist"
    assert "sample_matches" in err.value.message


def test_a_merchant_cannot_start_review_or_approve(owner_a, make_draft):
    product = make_draft(owner_a)
    services.product_submit(actor=owner_a, product=product)
    with pytest.raises(BusinessRuleViolation):
        services.product_start_review(actor=owner_a, product=product)
    with pytest.raises(BusinessRuleViolation):
        services.product_approve(actor=owner_a, product=product, **ALL_TICKED)


def test_another_merchant_cannot_submit_my_draft(owner_a, owner_b, make_draft):
    product = make_draft(owner_a)
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_submit(actor=owner_b, product=product)
    assert err.value.field == "actor"


def _move(verb, product, owner, operator):
    calls = {
        "submit": lambda: services.product_submit(actor=owner, product=product),
        "withdraw": lambda: services.product_withdraw(actor=owner, product=product),
        "start_review": lambda: services.product_start_review(actor=operator, product=product),
        "approve": lambda: services.product_approve(actor=operator, product=product, **ALL_TICKED),
        "reject": lambda: services.product_reject(
            actor=operator, product=product, comments="fix it"
        ),
        "suspend": lambda: services.product_suspend(
            actor=operator, product=product, reason="check"
        ),
        "reinstate": lambda: services.product_reinstate_by_operator(
            actor=operator, product=product, reason="checked"
        ),
        "delist": lambda: services.product_delist(actor=operator, product=product, reason="end"),
    }
    return calls[verb]()


# (verb, from status) -> resulting status, for every move a verb makes legally.
LEGAL = {
    ("submit", "draft"): "submitted",
    ("withdraw", "submitted"): "draft",
    ("start_review", "submitted"): "in_review",
    ("approve", "in_review"): "listed",
    ("reject", "in_review"): "draft",
    ("suspend", "listed"): "suspended",
    ("reinstate", "suspended"): "listed",
    ("delist", "listed"): "delisted",
    ("delist", "suspended"): "delisted",
}
# Asking for the state a product already has is a no-op, not an error.
NO_OP = {
    ("submit", "submitted"),
    ("withdraw", "draft"),
    ("start_review", "in_review"),
    ("approve", "listed"),
    ("approve", "suspended"),
    ("reject", "draft"),
    ("suspend", "suspended"),
    ("reinstate", "listed"),
    ("delist", "delisted"),
}
VERBS = [
    "submit",
    "withdraw",
    "start_review",
    "approve",
    "reject",
    "suspend",
    "reinstate",
    "delist",
]


def _product_in(status, owner):
    product = ProductFactory(provider=owner.merchant, status=status)
    product.plans.create(kind="one_off", price_fen=100)
    if status in ("submitted", "in_review"):
        ProductReview.objects.create(product=product, version=1, grade="general")
    if status == "suspended":
        Product.objects.filter(pk=product.pk).update(suspension_cause="operator")
        product.refresh_from_db()
    return product


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("status", ProductStatus.values)
def test_every_lifecycle_move_is_made_or_refused_as_the_table_says(verb, status, owner_a, operator):
    # given a product in `status`
    product = _product_in(status, owner_a)
    # when `verb` is asked for
    if (verb, status) in LEGAL:
        result = _move(verb, product, owner_a, operator)
        # then it moves, as the table allows
        assert result.status == LEGAL[(verb, status)]
        assert LEGAL[(verb, status)] in PRODUCT_TRANSITIONS[status]
    elif (verb, status) in NO_OP:
        events = product.events.count()
        result = _move(verb, product, owner_a, operator)
        assert result.status == status
        assert product.events.count() == events
    else:
        # then it is refused and nothing changes
        with pytest.raises((InvalidTransition, BusinessRuleViolation, Conflict)):
            _move(verb, product, owner_a, operator)
        assert Product.objects.get(pk=product.pk).status == status


def test_delisting_is_final_and_keeps_the_registration_number(owner_a, operator, make_listed):
    product = make_listed(owner_a)
    number = product.registration_number
    product = services.product_delist(actor=operator, product=product, reason="merchant asked")
    assert product.status == ProductStatus.DELISTED
    assert Product.objects.get(pk=product.pk).registration_number == number
    with pytest.raises(InvalidTransition):
        services.product_suspend(actor=operator, product=product, reason="x")


def test_delisting_needs_a_reason(owner_a, operator, make_listed):
    product = make_listed(owner_a)
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_delist(actor=operator, product=product, reason="")
    assert err.value.field == "reason"


def test_a_merchant_asks_for_delisting_and_the_operator_acts(owner_a, operator, make_listed):
    product = make_listed(owner_a)
    product = services.product_request_delisting(
        actor=owner_a, product=product, reason="data source ends"
    )
    assert product.delisting_requested_at is not None
    assert product.status == ProductStatus.LISTED  # the merchant cannot delist by itself
    product = services.product_delist(actor=operator, product=product, reason="as asked")
    assert product.status == ProductStatus.DELISTED


def test_operator_cannot_lift_a_suspension_caused_by_the_merchant(owner_a, operator, make_listed):
    product = make_listed(owner_a)
    services.product_suspend(actor=None, product=product, reason="x", cause="merchant")
    with pytest.raises(Conflict):
        services.product_reinstate_by_operator(actor=operator, product=product, reason="y")


def test_registration_numbers_are_sequential_and_never_reused(owner_a, operator, make_listed):
    first = make_listed(owner_a, title="one")
    services.product_delist(actor=operator, product=first, reason="gone")
    second = make_listed(owner_a, title="two")
    year, serial = first.registration_number.split("-")[1:]
    assert second.registration_number == f"HNDP-{year}-{int(serial) + 1:06d}"

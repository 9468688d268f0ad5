import pytest

from accounts.credit_code import CreditCodeError, check_character, validate_credit_code

# Published codes of well-known companies, as printed on their business licences.
REAL_CODES = [
    "9144030071526726XG",
    "91330100716105852F",
    "914403001922038216",
    "91110108551385082Q",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_world_codes_are_accepted(code):
    assert validate_credit_code(code) == code


def test_lower_case_and_spaces_are_normalised():
    assert validate_credit_code(" 9144030071526726xg ") == "9144030071526726XG"


def _with_check(first_seventeen: str) -> str:
    return first_seventeen + check_character(first_seventeen)


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("91430100MA4L3", "length"),
        ("9144030071526726XGA", "length"),
        ("91440300715267I6XG", "charset"),  # I is not in the alphabet
        ("9144030071526O26XG", "charset"),  # O neither
        ("91440300715267S6XG", "charset"),
        (_with_check("B1440300715267261"), "registration_authority"),
        (_with_check("94440300715267261"), "organisation_type"),  # 工商 has no type 4
        (_with_check("Y2440300715267261"), "organisation_type"),
        (_with_check("91A40300715267261"), "administrative_division"),
        (_with_check("91990300715267261"), "administrative_division"),  # no province 99
        ("9144030071526726XH", "check_character"),
        ("914403001922038217", "check_character"),
    ],
)
def test_invalid_codes_are_rejected_with_the_rule_that_failed(code, rule):
    with pytest.raises(CreditCodeError) as caught:
        validate_credit_code(code)
    assert caught.value.rule == rule
    assert caught.value.message

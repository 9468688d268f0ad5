"""统一社会信用代码 unified social credit code (GB 32100-2015).

Eighteen characters:
  1      registration authority (登记管理部门码)
  2      organisation type within that authority (机构类别码)
  3-8    administrative division of the registering office (登记管理机关行政区划码)
  9-17   organisation code (主体标识码, GB 11714)
  18     check character, mod 31 over the first seventeen

The alphabet is the digits and the capitals without I, O, Z, S and V.
`validate_credit_code` raises `CreditCodeError` naming the first rule that failed.
"""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Weight of position i is 3**i mod 31, as the standard tabulates.
WEIGHTS = [pow(3, i, 31) for i in range(17)]

# Registration authority -> the organisation types it may register.
ORGANISATION_TYPES: dict[str, set[str]] = {
    "1": {"1", "2", "3", "9"},  # 机构编制: organs, public institutions, mass organisations
    "2": {"1", "9"},  # 外交: foreign cultural centres
    "3": {"1", "2", "3", "4", "5", "9"},  # 司法行政: law firms, notaries, arbitration ...
    "4": {"1", "9"},  # 文化: foreign tourism offices
    "5": {"1", "2", "3", "9"},  # 民政: social organisations, private non-enterprises, foundations
    "6": {"1", "2", "9"},  # 旅游
    "7": {"1", "2", "9"},  # 宗教: religious venues and schools
    "8": {"1", "9"},  # 工会: trade unions
    "9": {"1", "2", "3"},  # 工商 / market regulation: enterprises, sole traders, co-operatives
    "A": {"1", "9"},  # 中央军委改革和编制办公室
    "N": {"1", "2", "3", "9"},  # 农业: rural collective economic organisations
    "Y": {"1"},  # other registration authorities
}

# First two digits of the administrative division code (GB/T 2260 provinces),
# plus 10 for registrations made by central authorities.
PROVINCE_PREFIXES = {
    "10", "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35",
    "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61",
    "62", "63", "64", "65", "71", "81", "82",
}  # fmt: skip


class CreditCodeError(ValueError):
    def __init__(self, rule: str, message: str):
        self.rule = rule
        self.message = message
        super().__init__(message)


def check_character(first_seventeen: str) -> str:
    total = sum(_VALUE[ch] * w for ch, w in zip(first_seventeen, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    return (raw or "").strip().upper()


def validate_credit_code(raw: str) -> str:
    """Return the normalised code, or raise CreditCodeError naming the failed rule."""
    code = normalise_credit_code(raw)
    if len(code) != 18:
        raise CreditCodeError("length", f"must be 18 characters long, got {len(code)}")
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        raise CreditCodeError(
            "charset",
            "contains characters outside the code's alphabet "
            f"(digits and capitals except I, O, Z, S, V): {', '.join(bad)}",
        )
    authority, org_type = code[0], code[1]
    if authority not in ORGANISATION_TYPES:
        raise CreditCodeError(
            "registration_authority",
            f"position 1 '{authority}' is not a registration authority code",
        )
    if org_type not in ORGANISATION_TYPES[authority]:
        raise CreditCodeError(
            "organisation_type",
            f"position 2 '{org_type}' is not an organisation type of registration "
            f"authority '{authority}'",
        )
    division = code[2:8]
    if not division.isdigit() or division[:2] not in PROVINCE_PREFIXES:
        raise CreditCodeError(
            "administrative_division",
            f"positions 3-8 '{division}' are not a six-digit administrative division code",
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(
            "check_character",
            f"check character (position 18) is '{code[17]}' but the first 17 characters "
            f"give '{expected}'",
        )
    return code

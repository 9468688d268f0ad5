"""Which English words a page shows that are not data: the check of every browser step.

A Chinese page may still carry Latin letters that are not interface words:
the allow-list below (API, CSV, ID, HNDP, units of data and money), credit
codes, registration numbers, e-mail addresses, web addresses, and whatever a
person typed (the scenario passes those in as `allowed`).
"""

import re

# Latin words a Chinese interface keeps as they are.
ALLOWED_WORDS = frozenset(
    {
        "API",
        "CSV",
        "ID",
        "HNDP",
        "PDF",
        "JPEG",
        "PNG",
        "B",
        "KB",
        "MB",
        "GB",
        "TB",
        "PB",
        # names of formats and standards, which Chinese interfaces keep as they are
        "SHA",
        "URL",
        "IRI",
        "JSON",
        "UTF",
        "Parquet",
        # key names in Django's own Chinese help for multiple selection
        "Control",
        "Command",
        "Mac",
    }
)
# Text that is data, whatever the language: removed before words are counted.
DATA_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"https?://\S+"),  # web addresses
    re.compile(r"\b[0-9A-HJ-NPQRTUWXY]{18}\b"),  # unified social credit codes (GB 32100)
    re.compile(r"\bHNDP-[\w-]+"),  # product registration numbers
    re.compile(r"\bN-Triples\b"),  # the RDF format partner records arrive in
    re.compile(r"[\w+/=]+\*{4,}"),  # Django's masked password hash (salt and digest)
    re.compile(r"\b(?:pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|scrypt|md5)\b"),  # its hasher
    re.compile(r"\bv\d+\b"),  # versions: v1, v2
    # JSON a merchant types (a dataset's columns, a query's aggregates) and its examples
    re.compile(r'[\[{][^\n]*?"[^\n]*[\]}]'),
    # the query format's comparison operators, typed as they are
    re.compile(r"\b(?:eq|ne|lt|le|gt|ge)(?:、(?:eq|ne|lt|le|gt|ge))+\b"),
]
_WORD = re.compile(r"[A-Za-z]+")


def english_words(text: str, *, allowed: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Latin words in `text` that are neither on the allow-list nor data."""
    for pattern in DATA_PATTERNS:
        text = pattern.sub(" ", text)
    # Longest first, so a name that contains another goes whole; without case, as the
    # admin shows some names in capitals (CSS text-transform).
    for typed in sorted(allowed, key=len, reverse=True):
        text = re.sub(re.escape(typed), " ", text, flags=re.IGNORECASE)
    return {word for word in _WORD.findall(text) if word not in ALLOWED_WORDS}

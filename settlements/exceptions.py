class LedgerImbalance(Exception):
    """A journal entry whose postings do not sum to zero, or with fewer than two lines."""

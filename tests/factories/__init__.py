"""Object builders, one module per app (tests.factories.accounts, ...)."""

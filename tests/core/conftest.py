# The marketplace's buyer, seller and plan, for the input checks that place orders.
from tests.marketplace.conftest import buyer, plan, product, seller  # noqa: F401

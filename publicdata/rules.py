"""Public-data rules other apps ask about. Implemented by the public-data (grants) issue.

- `product_listing_problems(product)` -> list of (field, message): why a product
  whose data source is public data may not be submitted or listed now (empty
  list: it may). Products call it on submit and on approve.
- `plan_price_problems(product, plan)` -> list of (field, message): a plan price
  above the grant's fee ceiling, or a non-zero price for a public-interest scenario.
- `scenario_in_force(scenario, at=None)` -> bool: the scenario has a passing
  assessment and an authorization whose window covers `at` (default now),
  and its grant is active.
"""

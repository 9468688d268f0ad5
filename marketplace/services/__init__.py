"""Writes for trading. One module per concern:

- orders: placing, delivering, accepting, cancelling, refunds, disputes, renewals
- payments: the payment channel's signed notifications and the escrow posting
- usage: metered plans' usage records and the monthly bill
- idempotency: replaying order-creation answers for retried requests
"""

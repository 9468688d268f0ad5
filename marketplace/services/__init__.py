"""Writes for trading. One module per concern:

- orders: placing, delivering, accepting, cancelling (and the helpers the next three share)
- refunds: refunds and the buyer's refund requests
- disputes: opening and resolving disputes
- subscriptions: renewing subscription orders
- payments: the payment channel's signed notifications and the escrow posting
- usage: metered plans' usage records and the monthly bill
- idempotency: replaying order-creation answers for retried requests
"""

"""Money: the double-entry ledger, advertiser escrow, the payment gateway, webhooks, payouts."""

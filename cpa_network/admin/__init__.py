"""The operator's pages: users and blocks (later issues add moderation, fraud, ledger)."""

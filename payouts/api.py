"""Money API (placeholder)."""

"""Accounts: users and their roles, who referred whom, API keys, blocking."""

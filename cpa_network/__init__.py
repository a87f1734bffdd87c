"""cpa-network: the application shell (config, extensions, accounts, admin, API shell, CLI)."""

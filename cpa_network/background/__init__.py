"""Background jobs people wait for: exports and bulk decisions, with progress and a result."""

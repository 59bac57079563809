"""The safety contract and the deterministic risk engine."""

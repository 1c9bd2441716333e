"""The adjustment log: append-only, hash-chained."""

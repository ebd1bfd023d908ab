"""The dataset lifecycle: immutable versions, lineage, validation, leakage and column access."""

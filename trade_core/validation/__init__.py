"""The validation suite: small plays on hand-built data with expectations worked out
without the engine, plus real-data verification plays (docs/validation.md)."""

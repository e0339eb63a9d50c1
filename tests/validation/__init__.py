"""The validation suite in the test set: every play, the counts, the reference calculation."""

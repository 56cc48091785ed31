"""Pages of the complaints app, one module per stage (records: list and record page)."""

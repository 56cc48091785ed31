"""Forms of the complaints app, one module per stage."""

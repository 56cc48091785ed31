"""Developer tools run with `python -m medvigil.tools.<name>` (not part of the web app)."""

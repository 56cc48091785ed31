"""A domain app that exists only in the test suite (installed when settings.TESTING): one
regulated record declared in five places of its own — apps.py (the declaration), models.py
(the record), services.py (state changes, "My work", deadlines, demo data, importer),
urls.py (pages) and api.py (router) — plus its migration and one template. The tests in
core/tests/test_domain_app.py prove what the platform gives it."""

"""URLconf of bench_floor_settings: MedVigil's URLs plus the bare floor view (benchmarks only)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from medvigil.urls import urlpatterns as app_urlpatterns


def floor(request: HttpRequest) -> HttpResponse:
    """No query, no template, no session read: what Django costs under this server."""
    return HttpResponse(b'{"ok": true}', content_type="application/json")


urlpatterns = [path("bench/floor", floor), *app_urlpatterns]

"""The REST API at /api/v1/, OpenAPI at /api/docs. Each app contributes a router."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="MedVigil API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

"""The CAPA app's pages, one module per aggregate (capa, nonconformity, suppliers)."""

"""The REST API v1 (DRF): lookup, search and owner endpoints."""

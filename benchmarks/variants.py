"""Names of the "what if" changes benchmarks/variant_settings.py can apply, and what
each one means."""

VARIANTS = {
    "one-throttle": "only the per-client scope throttle (the view's own rate), not the "
    "general per-client and per-address throttles",
    "no-throttles": "no DRF throttles at all",
    "no-health-checks": "no SELECT 1 health check of the database connection per request",
}

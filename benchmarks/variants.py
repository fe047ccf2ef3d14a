"""Names of the "what if" changes benchmarks/variant_settings.py can apply, and what
each one means."""

VARIANTS = {
    "scoped-throttle-only": "only the per-view scoped throttle (no anon and user throttles)",
    "no-throttles": "no DRF throttles at all",
    "no-health-checks": "no SELECT 1 health check of the database connection per request",
}

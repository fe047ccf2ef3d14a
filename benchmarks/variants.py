"""Names of the "what if" changes benchmarks/variant_settings.py can apply, and what
each one means."""

VARIANTS = {
    "no-answer-cache": "no answer cache: every answer computed from the database "
    "(ANSWER_CACHE off)",
    "no-throttles": "no DRF throttles at all",
    "no-health-checks": "no SELECT 1 health check of the database connection per request",
}

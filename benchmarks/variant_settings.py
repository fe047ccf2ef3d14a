"""Settings for "what if" benchmark runs: the project's settings with named changes.

Used only by ``benchmarks/resolve_load.py --variant …`` to measure, on the real stack,
what a candidate change would gain before anyone makes it. ``BENCH_VARIANTS`` is a
comma-separated list of names from :data:`benchmarks.variants.VARIANTS`.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from benchmarks.variants import VARIANTS
from directory.settings import *  # noqa: F403  (this module is those settings, amended)
from directory.settings import DATABASES, REST_FRAMEWORK

_chosen = [name for name in os.environ.get("BENCH_VARIANTS", "").split(",") if name]
for _name in _chosen:
    if _name not in VARIANTS:
        raise ImproperlyConfigured(f"BENCH_VARIANTS: unknown variant {_name!r}")

if "no-answer-cache" in _chosen:
    ANSWER_CACHE = False
if "no-throttles" in _chosen:
    REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
if "no-health-checks" in _chosen:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

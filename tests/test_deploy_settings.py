"""The production settings the README documents pass ``manage.py check --deploy`` without a
warning, and HTTPS settings come from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The README's "Production settings" and deploy/env.example, less the servers' addresses.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "Q7z!x0" + "m" * 30,
    "SITE_URL": "https://worldbook.example",
    "ALLOWED_HOSTS": "worldbook.example",
    "FORWARDED_ALLOW_IPS": "127.0.0.1,::1",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}
CLEARED = {
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "SEARCH_BACKEND",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "MEILISEARCH_URL",
    "FORWARDED_ALLOW_IPS",
    "DJANGO_SETTINGS_MODULE",
}


def run(tmp_path, args: list[str], **env):
    clean = {
        k: v for k, v in os.environ.items() if k not in CLEARED and not k.startswith("SECURE_")
    }
    clean.update(WORLDBOOK_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = run(
        tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_the_documented_settings_are_the_ones_in_env_example():
    example = (ROOT / "deploy" / "env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for name, value in PRODUCTION.items():
        if name in {"SECRET_KEY", "FORWARDED_ALLOW_IPS"}:
            continue
        assert f"{name}={value}\n" in example, name
        assert f"{name}={value}" in readme, name


def test_without_them_check_deploy_warns(tmp_path):
    settings = {k: v for k, v in PRODUCTION.items() if not k.startswith("SECURE_")}
    result = run(tmp_path, ["manage.py", "check", "--deploy"], **settings)
    assert "security.W004" in result.stdout + result.stderr  # no HSTS
    assert "security.W008" in result.stdout + result.stderr  # no HTTPS redirect


def test_the_forwarded_proto_header_counts_only_with_a_trusted_proxy(tmp_path):
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.SECURE_PROXY_SSL_HEADER, settings.TRUSTED_PROXIES)"
    )
    none = run(tmp_path, ["-c", code], DJANGO_SETTINGS_MODULE="directory.settings")
    assert none.stdout.strip() == "None []", none.stderr
    trusted = run(
        tmp_path,
        ["-c", code],
        DJANGO_SETTINGS_MODULE="directory.settings",
        FORWARDED_ALLOW_IPS="10.0.0.0/8",
    )
    assert trusted.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https') ['10.0.0.0/8']"
    bad = run(
        tmp_path,
        ["-c", code],
        DJANGO_SETTINGS_MODULE="directory.settings",
        FORWARDED_ALLOW_IPS="proxy",
    )
    assert bad.returncode != 0 and "FORWARDED_ALLOW_IPS" in bad.stderr

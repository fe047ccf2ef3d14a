"""Settings come from the environment and refuse values they cannot read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(tmp_path, **env):
    """Import the settings module in a fresh interpreter with ``env``; return the process."""
    clean = {k: v for k, v in os.environ.items() if k not in {
        "DEBUG", "SECRET_KEY", "DATABASE_URL", "SEARCH_BACKEND", "ALLOWED_HOSTS", "SITE_URL",
        "CELERY_BROKER_URL", "REDIS_URL", "MEILISEARCH_URL",
    }}
    clean.update(
        WORLDBOOK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="directory.settings", **env
    )
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.SEARCH_BACKEND, ','.join(settings.ALLOWED_HOSTS))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_it_defaults_to_sqlite_a_serverless_broker_and_the_database_search(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    engine, broker, backend, _hosts = result.stdout.split()
    assert (engine, broker, backend) == (
        "django.db.backends.sqlite3", "filesystem://localhost//", "database"
    )


def test_it_queues_a_task_on_the_default_broker_without_a_warning(tmp_path):
    # The message lands in this test's own broker folder (tmp_path/broker), read by no one.
    clean = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
    clean.update(WORLDBOOK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="directory.settings")
    code = (
        "import django; django.setup(); from directory.celery import app; "
        "app.send_task('worldbook.settings_test'); print(app.connection_for_write().transport_cls)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "filesystem"
    assert len(list((tmp_path / "broker").iterdir())) == 1
    assert "WARNING" not in result.stderr, result.stderr


def test_it_reads_postgres_and_redis_from_the_environment(tmp_path):
    result = load_settings(
        tmp_path,
        DATABASE_URL="postgres://wb@db.internal:5432/worldbook",
        REDIS_URL="redis://cache.internal:6379/0",
        ALLOWED_HOSTS="worldbook.example, www.worldbook.example",
    )
    assert result.returncode == 0, result.stderr
    engine, broker, _backend, hosts = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert broker == "redis://cache.internal:6379/0"
    assert hosts == "worldbook.example,www.worldbook.example"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY must be set"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"SEARCH_BACKEND": "elastic"}, "SEARCH_BACKEND must be one of"),
        ({"SEARCH_BACKEND": "meilisearch"}, "needs MEILISEARCH_URL"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be"),
        ({"SITE_URL": "ftp://x"}, "SITE_URL must be"),
        ({"BASIC_AUTH_FAILURES_PER_IP": "20 per 10 minutes"}, "BASIC_AUTH_FAILURES_PER_IP"),
        ({"THROTTLE_REPORT": "abc"}, "THROTTLE_REPORT must be a rate"),
        ({"THROTTLE_PUBLIC": "abc"}, "THROTTLE_PUBLIC must be a rate"),
        ({"THROTTLE_NUMBERS": "5/fortnight"}, "THROTTLE_NUMBERS must be a rate"),
        ({"THROTTLE_ANON": "0/min"}, "THROTTLE_ANON must be a rate"),
        ({"DATABASE_REPLICA_URLS": "postgres://r@replica/wb"}, "needs a postgres:// DATABASE_URL"),
        (
            {"DATABASE_URL": "postgres://p@primary/wb", "DATABASE_REPLICA_URLS": "sqlite:///x"},
            "DATABASE_REPLICA_URLS must list postgres:// URLs",
        ),
        (
            {"DATABASE_REPLICA_MAX_LAG": "20", "DATABASE_PIN_SECONDS": "10"},
            "DATABASE_PIN_SECONDS (10) must be at least",
        ),
    ],
)
def test_it_fails_loudly_on_bad_values(tmp_path, env, message):
    result = load_settings(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_replicas_get_the_router_the_middleware_and_a_connect_timeout(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    clean.update(
        WORLDBOOK_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="directory.settings",
        DATABASE_URL="postgres://wb@primary.internal:5432/worldbook",
        DATABASE_REPLICA_URLS="postgres://wb@r1.internal/wb, postgres://wb@r2.internal/wb",
        DATABASE_REPLICA_MAX_LAG="30",
    )
    code = (
        "import django; from django.conf import settings as s; django.setup(); "
        "print(s.DATABASE_REPLICAS, [s.DATABASES[a]['HOST'] for a in s.DATABASE_REPLICAS], "
        "s.DATABASES['replica2']['OPTIONS']['connect_timeout'], s.DATABASE_ROUTERS, "
        "s.MIDDLEWARE[0], s.MIDDLEWARE[-1], s.DATABASE_PIN_SECONDS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "['replica1',", "'replica2']", "['r1.internal',", "'r2.internal']", "2",
        "['directory.replicas.ReplicaRouter']", "directory.replicas.ReplicaMiddleware",
        "directory.replicas.ReplicaReadsMiddleware", "31",
    ]  # fmt: skip


def test_it_shares_the_default_cache_between_processes(tmp_path):
    # Rate limits count in the cache: each gunicorn worker is a process of its own.
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    clean.update(WORLDBOOK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="directory.settings")
    setup = "import django; django.setup(); from django.core.cache import cache; "
    for code in ("cache.set('hits', 7, 60)", "print(cache.get('hits'))"):
        result = subprocess.run(
            [sys.executable, "-c", setup + code],
            cwd=ROOT,
            env=clean,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7"


def test_the_system_check_refuses_a_throttle_rate_set_in_code(settings):
    from directory.checks import check_throttle_rates

    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], report="abc")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    settings.PUBLIC_RATE_LIMIT = "5/fortnight"

    errors = check_throttle_rates()

    assert [e.id for e in errors] == ["directory.E001", "directory.E001"]
    assert "THROTTLE_REPORT" in errors[0].hint and "THROTTLE_PUBLIC" in errors[1].hint


def test_commands_use_the_secret_key_deploy_run_generated(tmp_path):
    """manage.py beside ./deploy/run reads var/secret_key, so both sign and hash alike."""
    (tmp_path / "secret_key").write_text("k" * 50 + "\n")
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.SECRET_KEY)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    clean.update(WORLDBOOK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="directory.settings")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "k" * 50
    (tmp_path / "secret_key").unlink()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.stdout.strip() == "insecure-development-key-never-use-in-production"


def test_passkeys_work_on_the_localhost_site_deploy_run_serves(tmp_path):
    # ./deploy/run serves SITE_URL http://localhost:PORT: WebAuthn accepts "localhost" over
    # plain http (never an IP address), and the page is also reached at 127.0.0.1.
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "from django.core.management import call_command; call_command('check'); "
        "print(settings.PASSKEYS_AVAILABLE, settings.OTP_WEBAUTHN_RP_ID, "
        "','.join(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS), ','.join(settings.ALLOWED_HOSTS), "
        "settings.SESSION_COOKIE_SECURE, settings.WORLDBOOK_DOMAIN, settings.DEMO_DATA)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ALLOWED_HOSTS"}}
    env.update(
        WORLDBOOK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="directory.settings",
        SITE_URL="http://localhost:8123", DEBUG="false", SECRET_KEY="x" * 50, DEMO_DATA="true",
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    available, rp_id, origins, hosts, secure, domain, demo = result.stdout.split()[-7:]
    assert (available, rp_id, origins) == ("True", "localhost", "http://localhost:8123")
    assert {"localhost", "127.0.0.1"} <= set(hosts.split(","))
    assert (secure, domain, demo) == ("False", "localhost", "True")


def test_demo_data_is_off_unless_switched_on(tmp_path):
    code = (
        "import django; from django.conf import settings; django.setup(); print(settings.DEMO_DATA)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DEMO_DATA"}
    env.update(WORLDBOOK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="directory.settings")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_killed_worker_s_tasks_return_within_minutes(tmp_path):
    """A Redis broker hands out again, after CELERY_VISIBILITY_TIMEOUT seconds (300, not
    kombu's hour), the tasks a killed worker took; every task acks late (each is safe to
    run twice)."""
    code = (
        "import django; django.setup(); from directory.celery import app; "
        "app.loader.import_default_modules(); "
        "print(app.conf.broker_transport_options.get('visibility_timeout'), "
        "app.conf.task_acks_late, app.conf.task_reject_on_worker_lost, "
        "','.join(sorted(n for n, t in app.tasks.items() if t.acks_late)))"
    )

    def run(**env):
        clean = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
        clean.update(WORLDBOOK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="directory.settings")
        clean.update(CELERY_BROKER_URL="redis://127.0.0.1:9/0", **env)
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    visibility, acks_late, reject_on_lost, late_tasks = run()
    assert (visibility, acks_late, reject_on_lost) == ("300", "True", "True")
    # Every task of the project, none left out.
    assert set(late_tasks.split(",")) >= {
        "directory.outbox_relay", "moderation.impersonation_check", "moderation.protect_names",
        "moderation.send_notice", "numbers.advance", "numbers.email_binding_ended",
        "numbers.email_contacts", "search.drain_pending", "search.remove_entries",
        "search.sync_entry", "transparency.integrate", "verification.check_handle",
        "verification.recheck_due",
    }  # fmt: skip
    assert run(CELERY_VISIBILITY_TIMEOUT="60")[0] == "60"
    assert "CELERY_VISIBILITY_TIMEOUT" in "".join(
        subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            cwd=ROOT,
            env={
                **os.environ,
                "WORLDBOOK_VAR_DIR": str(tmp_path),
                "DJANGO_SETTINGS_MODULE": "directory.settings",
                "CELERY_BROKER_URL": "redis://127.0.0.1:9/0",
                "CELERY_VISIBILITY_TIMEOUT": "5",
            },
            capture_output=True,
            text=True,
        ).stderr
    )


def test_rabbitmq_gets_quorum_queues_without_global_qos(tmp_path):
    """On RabbitMQ (amqp://) the task queue is a quorum queue, the worker detects it (and so
    sets a per-consumer prefetch, as quorum queues refuse a global one), countdowns go
    through native delayed delivery (a topic exchange) and publishes are confirmed. Redis
    and the file-system broker keep classic queues on a direct exchange."""
    code = (
        "import django; django.setup(); from directory.celery import app; "
        "from celery.utils.quorum_queues import detect_quorum_queues; "
        "q = app.amqp.queues[app.conf.task_default_queue]; "
        "print(app.conf.task_default_queue_type, q.queue_arguments, q.exchange.type, "
        "app.conf.worker_detect_quorum_queues, detect_quorum_queues(app, 'amqp')[0], "
        "app.conf.broker_transport_options.get('confirm_publish'))"
    )

    def run(url: str) -> list[str]:
        env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
        env.update(
            WORLDBOOK_VAR_DIR=str(tmp_path),
            DJANGO_SETTINGS_MODULE="directory.settings",
            CELERY_BROKER_URL=url,
        )
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1].split(" ", 1)

    queue_type, rest = run("amqp://guest:guest@127.0.0.1:9/worldbook")
    assert queue_type == "quorum"
    assert rest == "{'x-queue-type': 'quorum'} topic True True True"
    for url in ("redis://127.0.0.1:9/0", "filesystem://localhost//"):
        assert run(url) == ["classic", "None direct True False None"]


def test_an_unknown_broker_scheme_stops_start_up(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env.update(
        WORLDBOOK_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="directory.settings",
        CELERY_BROKER_URL="sqs://queue",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert "CELERY_BROKER_URL: 'sqs' is not a broker Worldbook runs on" in result.stderr

"""Sydent, Matrix's identity server, as the resolve benchmark's peer (``--peer sydent``).

Sydent (``pip install matrix-sydent``: Twisted, one process, SQLite) answers the deprecated
v1 lookup, ``GET /_matrix/identity/api/v1/lookup?medium=email&address=…``, with the signed
association of an email address and a Matrix ID, or ``{}``. That is the closest thing to
``/api/v1/resolve`` another directory serves, so the benchmark drives both with the same
wrk settings in the same run.

- :func:`ensure_installed` makes a virtualenv of its own under the peer folder (outside the
  repository) and installs matrix-sydent there, with prometheus-client, which its server
  imports but does not declare.
- :func:`ensure_associations` lets Sydent create and migrate its database (one start), then
  writes the associations straight into ``global_threepid_associations``, in Sydent's own
  schema, each row's ``sgAssoc`` signed with Sydent's own library (signedjson): by a
  replication peer (the default, ``--sydent-signer peer``; Sydent's lookup then signs each
  answer as itself, as it does for every association its peers sent it) or by Sydent's own
  key (``self``, as for the associations it verified itself; it then answers without
  signing). ``lookup_hash`` (read only by the v2 hashed lookup) stays empty. A load of the
  same size, seed and signer is reused.
- :func:`running` starts Sydent on 127.0.0.1 only (replication, which needs a certificate,
  stays off) and stops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks.server import stop_process

PACKAGES = ("matrix-sydent", "prometheus-client")
SERVER_NAME = "sydent.bench.invalid"
LOOKUP_PATH = "/_matrix/identity/api/v1/lookup?medium=email&address="

CONFIG = """[general]
server.name = {server_name}
log.level = WARNING
pidfile.path = {folder}/sydent.pid

[db]
db.file = {folder}/sydent.db

[http]
clientapi.http.bind_address = 127.0.0.1
clientapi.http.port = {port}
replication.https.bind_address = 127.0.0.1
replication.https.port = {replication_port}

[email]
email.smtphost = 127.0.0.1
"""

# Runs in Sydent's virtualenv: reads "address<TAB>mxid" lines from a file and inserts the
# signed associations, as Sydent's GlobalAssociationStore.addAssociation does.
LOADER = r"""
import configparser, json, sqlite3, sys, time
import signedjson.key, signedjson.sign

config_path, rows_path, signer = sys.argv[1], sys.argv[2], sys.argv[3]
config = configparser.ConfigParser()
config.read(config_path)
server = config.get("general", "server.name")
_alg, version, secret = config.get("crypto", "ed25519.signingkey").split()
key = signedjson.key.decode_signing_key_base64("ed25519", version, secret)
if signer == "peer":
    # Learned from a replication peer: signed by the peer, so Sydent signs each answer.
    server = "peer." + server
    key = signedjson.key.generate_signing_key("0")
db = sqlite3.connect(config.get("db", "db.file"))
now = int(time.time() * 1000)
later = now + 100 * 365 * 86400 * 1000

def rows():
    with open(rows_path) as lines:
        for n, line in enumerate(lines, start=1):
            address, mxid = line.rstrip("\n").split("\t")
            assoc = {"medium": "email", "address": address, "mxid": mxid, "ts": now,
                     "not_before": now - 1000, "not_after": later}
            signed = signedjson.sign.sign_json(assoc, server, key)
            yield ("email", address, None, mxid, now, now - 1000, later, server, n,
                   json.dumps(signed))

db.execute("DELETE FROM global_threepid_associations")
db.executemany(
    "INSERT INTO global_threepid_associations (medium, address, lookup_hash, mxid, ts, "
    "notBefore, notAfter, originServer, originId, sgAssoc) VALUES (?,?,?,?,?,?,?,?,?,?)",
    rows(),
)
db.commit()
db.execute("ANALYZE")
print(db.execute("SELECT COUNT(*) FROM global_threepid_associations").fetchone()[0])
"""


def venv_python(folder: Path) -> Path:
    return folder / "venv" / "bin" / "python"


def ensure_installed(folder: Path, say=print) -> str:
    """Install matrix-sydent into ``folder``/venv unless it is there. Output: its version."""
    python = venv_python(folder)
    if not python.exists():
        say(f"Sydent: installing {', '.join(PACKAGES)} into {folder / 'venv'} …")
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *PACKAGES],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    done = subprocess.run(
        [
            str(python),
            "-c",
            "from importlib.metadata import version; print(version('matrix-sydent'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _write_config(folder: Path, port: int, replication_port: int) -> Path:
    path = folder / "sydent.conf"
    text = CONFIG.format(
        server_name=SERVER_NAME, folder=folder, port=port, replication_port=replication_port
    )
    if path.exists():
        # Keep the signing key Sydent wrote on its first start.
        old = path.read_text()
        key = old[old.find("[crypto]") :] if "[crypto]" in old else ""
        text += "\n" + key
    path.write_text(text)
    return path


@contextmanager
def running(folder: Path, port: int, replication_port: int, log: Path) -> Iterator[str]:
    """Run Sydent from ``folder`` on 127.0.0.1:``port``; yield its base URL; stop it."""
    config = _write_config(folder, port, replication_port)
    env = {**os.environ, "SYDENT_CONF": str(config)}
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [str(venv_python(folder)), "-m", "sydent.sydent"],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Sydent exited with {process.returncode}; see {log}")
            try:
                httpx.get(base_url + LOOKUP_PATH + "probe%40example.org", timeout=5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Sydent did not answer within 60 s; see {log}") from None
                time.sleep(0.25)
        yield base_url
    finally:
        stop_process(process)


def ensure_associations(
    folder: Path,
    associations: Iterable[tuple[str, str]],
    *,
    count: int,
    marker: str,
    ports: tuple[int, int],
    log: Path,
    signer: str = "peer",
    say=print,
) -> float:
    """Give Sydent exactly ``count`` email associations (``(address, mxid)`` pairs),
    signed by itself (``signer="self"``, as it signs those it verified) or by a
    replication peer (``"peer"``: Sydent then signs each answer as itself, as it does for
    every association its peers sent it).

    A load recorded under the same ``marker`` (size and seed) is reused. Output: the
    seconds the load took (0 when reused). Raises ``RuntimeError`` when Sydent fails to
    start or the load does not hold ``count`` rows.
    """
    stamp = folder / "associations.loaded"
    if stamp.exists() and stamp.read_text() == marker and (folder / "sydent.db").exists():
        return 0.0
    started = time.perf_counter()
    (folder / "sydent.db").unlink(missing_ok=True)
    with running(folder, *ports, log=log):
        pass  # the first start creates and migrates the database and the signing key
    rows = folder / "associations.tsv"
    with open(rows, "w") as out:
        for address, mxid in associations:
            out.write(f"{address}\t{mxid}\n")
    loader = folder / "load_associations.py"
    loader.write_text(LOADER)
    say(f"Sydent: signing and inserting {count} associations …")
    done = subprocess.run(
        [str(venv_python(folder)), str(loader), str(folder / "sydent.conf"), str(rows), signer],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    rows.unlink(missing_ok=True)
    if done.returncode != 0 or done.stdout.strip() != str(count):
        raise RuntimeError(f"Sydent's associations did not load: {done.stderr or done.stdout}")
    stamp.write_text(marker)
    return time.perf_counter() - started


def remove(folder: Path) -> None:
    """Delete the peer folder (virtualenv, database, configuration)."""
    shutil.rmtree(folder, ignore_errors=True)

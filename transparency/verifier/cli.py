"""``worldbook-verify``: check a Worldbook resolve (or entry) answer against the log.

Usage::

    worldbook-verify ANSWER.json --log-key VKEY [--state FILE] [--server URL]
                     [--witness VKEY …] [--witnesses-required K]

``ANSWER.json`` (``-`` for standard input) is the JSON body of
``GET /api/v1/resolve?handle=…&proof=1`` or ``GET /api/v1/entries/<handle>?proof=1``;
``--log-key`` is the log's verifier key, pinned by the caller (never taken from the
answer). The checks, in order, each named when it fails:

``answer``          the answer is JSON with ``proof``, ``leaf`` and ``endpoint_salts``;
``proof-format``    ``proof`` is a c2sp.org/tlog-proof@v1 text;
``checkpoint``      its checkpoint is signed by the pinned key and names its origin;
``witnesses``       at least K of the ``--witness`` keys cosigned it (c2sp.org/tlog-cosignature);
``leaf``            ``leaf`` is a binding record of the answer's directory handle that
                    answers;
``inclusion``       the record is the entry at ``index`` of the checkpointed tree;
``handles``         every verified handle in the answer (phone numbers aside) is in the
                    record;
``endpoints``       every endpoint in the answer opens one of the record's commitments;
``consistency``     the checkpoint and the last one stored in ``--state`` are one log:
                    the consistency proof between them (fetched from ``--server``) checks,
                    so the log was not rewound or forked. The larger one is then stored.

Exit status 0 when every check passes, 1 naming the first that failed
(``FAILED <check>: <reason>`` on standard error), 2 for bad usage. Standard library and
``cryptography`` only.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from . import binding, tlog
from .checkpoint import Checkpoint, CheckpointError, open_checkpoint
from .cosignature import CosignatureError, WitnessVerifier, check_witnesses
from .note import NoteError, Verifier
from .proof import ProofFormatError, TlogProof

PHONE_HANDLE_KINDS = frozenset({"whatsapp", "signal"})
FETCH_TIMEOUT = 30


class CheckFailed(Exception):
    """One check failed: ``check`` names it, the message says why."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(reason)
        self.check = check


def _fetch_consistency(server: str, old: int, new: int) -> list[bytes]:
    query = urllib.parse.urlencode({"from": old, "to": new})
    url = f"{server.rstrip('/')}/log/consistency?{query}"
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            body = json.load(response)
        return [base64.b64decode(h, validate=True) for h in body["proof"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckFailed("consistency", f"could not fetch the consistency proof: {exc}") from None


def _read_state(path: Path, log_key: Verifier) -> Checkpoint | None:
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text())
        checkpoint, _ = open_checkpoint(stored["checkpoint"], log_key)
    except (OSError, ValueError, KeyError, TypeError, NoteError, CheckpointError) as exc:
        raise CheckFailed("consistency", f"the state file cannot be read: {exc}") from None
    return checkpoint


def _write_state(path: Path, note_text: str, checkpoint: Checkpoint) -> None:
    data = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "checkpoint": note_text,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as tmp:
        json.dump(data, tmp)
    os.replace(tmp.name, path)


def _check_consistency(
    old: Checkpoint, new: Checkpoint, server: str | None
) -> tuple[Checkpoint, bool]:
    """Check that ``old`` and ``new`` are one log; return the larger, and whether it is new."""
    if old.size == new.size:
        if old.root_hash != new.root_hash:
            raise CheckFailed("consistency", f"two different trees of {new.size} leaves: a fork")
        return old, False
    small, large = (old, new) if old.size < new.size else (new, old)
    if small.size == 0:
        return large, large is new
    if server is None:
        raise CheckFailed("consistency", "a consistency proof is needed: give --server")
    proof = _fetch_consistency(server, small.size, large.size)
    try:
        tlog.verify_consistency(small.size, large.size, small.root_hash, large.root_hash, proof)
    except tlog.ProofError as exc:
        what = "the log was rewound or forked" if large is old else "the log was forked"
        raise CheckFailed(
            "consistency",
            f"the checkpoint of {new.size} leaves is not consistent with the stored one "
            f"of {old.size} leaves ({what}): {exc}",
        ) from None
    return large, large is new


def verify_answer(
    answer: dict,
    log_key: Verifier,
    *,
    witnesses: Sequence[WitnessVerifier] = (),
    witnesses_required: int = 0,
    state: Path | None = None,
    server: str | None = None,
) -> binding.BindingRecord:
    """Run every check on a resolve or entry answer; return its binding record.

    Raises CheckFailed naming the first check that failed. On success, with ``state``,
    stores the newest checkpoint seen.
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("proof"), str):
        raise CheckFailed("answer", "the answer carries no proof (ask with ?proof=1)")
    if not isinstance(answer.get("leaf"), str) or not isinstance(
        answer.get("endpoint_salts"), list
    ):
        raise CheckFailed("answer", "the answer carries no leaf record or no endpoint salts")
    try:
        entry_handle = str(answer["entry"]["handle"])
        endpoints = list(answer["endpoints"])
        handles = list(answer.get("handles", []))
    except (KeyError, TypeError):
        raise CheckFailed("answer", "the answer has no entry handle or endpoints") from None

    try:
        proof = TlogProof.parse(answer["proof"])
    except ProofFormatError as exc:
        raise CheckFailed("proof-format", str(exc)) from None

    try:
        checkpoint, note = open_checkpoint(proof.checkpoint, log_key)
    except (NoteError, CheckpointError) as exc:
        raise CheckFailed("checkpoint", f"{exc}") from None

    try:
        check_witnesses(note.text, note.unverified, witnesses, witnesses_required)
    except CosignatureError as exc:
        raise CheckFailed("witnesses", str(exc)) from None

    try:
        record = binding.BindingRecord.parse(answer["leaf"])
    except binding.RecordError as exc:
        raise CheckFailed("leaf", str(exc)) from None
    expected = entry_handle.removeprefix("@").casefold()
    if record.handle != expected:
        raise CheckFailed("leaf", f"the record is of @{record.handle}, not {entry_handle}")
    if not record.answers:
        raise CheckFailed("leaf", "the record says the handle answers nothing")

    leaf = tlog.leaf_hash(answer["leaf"].encode())
    try:
        tlog.verify_inclusion(proof.index, checkpoint.size, leaf, proof.path, checkpoint.root_hash)
    except tlog.ProofError as exc:
        raise CheckFailed("inclusion", str(exc)) from None

    committed = set(record.handles)
    for handle in handles:
        if not isinstance(handle, dict) or handle.get("status") != "verified":
            continue
        kind, value = str(handle.get("kind")), str(handle.get("value"))
        if kind in PHONE_HANDLE_KINDS and value.startswith("+"):
            continue
        if f"{kind}:{value}" not in committed:
            raise CheckFailed("handles", f"the record does not hold the handle {kind}:{value}")

    try:
        binding.check_endpoints(record, endpoints, answer["endpoint_salts"])
    except binding.RecordError as exc:
        raise CheckFailed("endpoints", str(exc)) from None

    if state is not None:
        old = _read_state(state, log_key)
        keep, changed = (
            (checkpoint, True) if old is None else _check_consistency(old, checkpoint, server)
        )
        if changed:
            _write_state(state, proof.checkpoint, keep)
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse arguments, verify, print the outcome; return the status."""
    parser = argparse.ArgumentParser(
        prog="worldbook-verify",
        description="Check a Worldbook resolve answer (asked with ?proof=1) against the "
        "directory's transparency log.",
    )
    parser.add_argument("answer", help="the answer's JSON file, or - for standard input")
    parser.add_argument("--log-key", required=True, help="the log's pinned verifier key")
    parser.add_argument("--state", type=Path, help="file keeping the last checkpoint seen")
    parser.add_argument("--server", help="the directory's base URL, for consistency proofs")
    parser.add_argument(
        "--witness", action="append", default=[], help="a witness's vkey (repeatable)"
    )
    parser.add_argument(
        "--witnesses-required",
        type=int,
        default=None,
        help="how many of the --witness keys must have cosigned (default: all of them)",
    )
    args = parser.parse_args(argv)
    try:
        log_key = Verifier.from_key(args.log_key)
        witnesses = [WitnessVerifier.from_key(k) for k in args.witness]
    except (NoteError, CosignatureError) as exc:
        parser.error(f"bad key: {exc}")
    required = len(witnesses) if args.witnesses_required is None else args.witnesses_required
    if not 0 <= required <= len(witnesses):
        parser.error(f"--witnesses-required must be between 0 and {len(witnesses)}")
    try:
        text = sys.stdin.read() if args.answer == "-" else Path(args.answer).read_text()
    except OSError as exc:
        parser.error(f"cannot read the answer: {exc}")
    try:
        try:
            answer = json.loads(text)
        except ValueError:
            raise CheckFailed("answer", "the answer is not JSON") from None
        record = verify_answer(
            answer,
            log_key,
            witnesses=witnesses,
            witnesses_required=required,
            state=args.state,
            server=args.server,
        )
    except CheckFailed as exc:
        print(f"FAILED {exc.check}: {exc}", file=sys.stderr)
        return 1
    print(
        f"OK @{record.handle} record {record.seq} is in the log "
        f"({len(answer['endpoints'])} endpoints checked)"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

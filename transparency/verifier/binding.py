"""Worldbook's log entries: the binding record of one change to what a handle answers.

A record is canonical JSON (keys sorted, no white space, UTF-8, ``ensure_ascii=False``) of
an object with these keys (version 1, ``"v": 1``):

- ``handle``: the directory handle, case-folded, without the ``@``;
- ``seq``: the handle's sequence number, 0 for its first record, then one more each time;
- ``prev``: base64 of the RFC 6962 leaf hash of the handle's previous record, ``null``
  for ``seq`` 0;
- ``time``: when the change was made, RFC 3339 UTC to the second (``…Z``);
- ``answers``: whether the handle answers lookups after the change (false for a handle
  that is gone or whose entry is suspended; its lists are then empty);
- ``handles``: the verified handles that answer for it, ``kind:value`` sorted, phone
  numbers left out;
- ``private_handles``: commitments to the verified phone-number handles, sorted;
- ``endpoints``: commitments to the endpoints, sorted.

A commitment is ``base64(SHA-256(domain ‖ salt ‖ encoding))``: ``encoding`` is the
canonical JSON of the item (:func:`endpoint_encoding`, :func:`handle_encoding`),
``domain`` names what it is (``worldbook/endpoint/v1\\0``, ``worldbook/handle/v1\\0``)
and ``salt`` is 32 bytes. The log keeps a random 32-byte secret per record, never
published, and the salt of an item is ``HMAC-SHA256(secret, domain ‖ encoding)``: the
server can reveal the salt of the endpoints a caller may see without revealing anything
about the others, whose commitments stay unopenable.

Standard library only, so the verifier can be vendored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

VERSION = 1
ENDPOINT_DOMAIN = b"worldbook/endpoint/v1\x00"
HANDLE_DOMAIN = b"worldbook/handle/v1\x00"
SALT_SIZE = 32
#: c2sp.org/tlog-tiles entry bundles prefix each entry with a 16-bit length.
MAX_RECORD_SIZE = 65535

_CAPABILITIES = ("voice", "video", "text")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_KEYS = {"v", "handle", "seq", "prev", "time", "answers", "handles", "private_handles", "endpoints"}


class RecordError(ValueError):
    """A binding record, an item or a salt is malformed; the message says what."""


def canonical_json(value) -> bytes:
    """The canonical JSON bytes of ``value``: keys sorted, no white space, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def endpoint_encoding(endpoint: Mapping) -> bytes:
    """The canonical encoding of an endpoint as the API answers it.

    Input: a mapping with ``uri``, ``scheme``, ``service``, ``capabilities`` (a subset of
    voice, video, text), ``preference`` and ``label`` (other keys, such as ``href``, are
    ignored). Output: canonical JSON of those six. Raises RecordError when one is missing
    or of the wrong type.
    """
    try:
        capabilities = [c for c in _CAPABILITIES if c in endpoint["capabilities"]]
        item = {
            "uri": str(endpoint["uri"]),
            "scheme": str(endpoint["scheme"]),
            "service": str(endpoint["service"]),
            "capabilities": capabilities,
            "preference": int(endpoint["preference"]),
            "label": str(endpoint["label"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"malformed endpoint: {exc}") from None
    return canonical_json(item)


def handle_encoding(kind: str, value: str) -> bytes:
    """The canonical encoding of a handle ``kind:value``: canonical JSON of both."""
    return canonical_json({"kind": kind, "value": value})


def item_salt(secret: bytes, domain: bytes, encoding: bytes) -> bytes:
    """The salt of one item of a record: HMAC-SHA256(secret, domain ‖ encoding)."""
    return hmac.new(secret, domain + encoding, hashlib.sha256).digest()


def commitment(domain: bytes, salt: bytes, encoding: bytes) -> str:
    """``base64(SHA-256(domain ‖ salt ‖ encoding))``. Raises RecordError for a bad salt."""
    if len(salt) != SALT_SIZE:
        raise RecordError(f"a salt is {SALT_SIZE} bytes")
    return base64.b64encode(hashlib.sha256(domain + salt + encoding).digest()).decode()


def decode_salt(text: str) -> bytes:
    """A salt from its base64 text. Raises RecordError unless it is 32 bytes of base64."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise RecordError("a salt is not base64") from None
    if len(raw) != SALT_SIZE:
        raise RecordError(f"a salt is {SALT_SIZE} bytes")
    return raw


@dataclass(frozen=True)
class BindingRecord:
    """One binding record (version 1); :meth:`encode` gives its exact log entry bytes."""

    handle: str
    seq: int
    prev: str | None
    time: str
    answers: bool
    handles: tuple[str, ...] = ()
    private_handles: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """The record as the JSON object it is logged as (lists sorted)."""
        return {
            "v": VERSION,
            "handle": self.handle,
            "seq": self.seq,
            "prev": self.prev,
            "time": self.time,
            "answers": self.answers,
            "handles": sorted(self.handles),
            "private_handles": sorted(self.private_handles),
            "endpoints": sorted(self.endpoints),
        }

    def encode(self) -> bytes:
        """The log entry: canonical JSON. Raises RecordError when over 65,535 bytes."""
        data = canonical_json(self.as_dict())
        if len(data) > MAX_RECORD_SIZE:
            raise RecordError("a binding record is at most 65,535 bytes")
        return data

    @classmethod
    def parse(cls, data: bytes | str) -> BindingRecord:
        """Read a record from its log entry bytes.

        Raises RecordError when the bytes are not the canonical JSON of a version 1 record
        (so one record has exactly one encoding, and the leaf hash is that of these bytes).
        """
        if isinstance(data, str):
            data = data.encode()
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise RecordError("the record is not JSON") from None
        if not isinstance(obj, dict) or set(obj) != _KEYS:
            raise RecordError("the record does not have the keys of a version 1 record")
        if obj["v"] != VERSION:
            raise RecordError(f"unknown record version {obj['v']!r}")
        ok = (
            isinstance(obj["handle"], str)
            and obj["handle"]
            and type(obj["seq"]) is int
            and obj["seq"] >= 0
            and (obj["prev"] is None) == (obj["seq"] == 0)
            and (obj["prev"] is None or isinstance(obj["prev"], str))
            and isinstance(obj["time"], str)
            and _TIME.fullmatch(obj["time"])
            and isinstance(obj["answers"], bool)
            and all(
                isinstance(obj[k], list) and all(isinstance(x, str) for x in obj[k])
                for k in ("handles", "private_handles", "endpoints")
            )
        )
        if not ok:
            raise RecordError("a field of the record is malformed")
        record = cls(
            handle=obj["handle"],
            seq=obj["seq"],
            prev=obj["prev"],
            time=obj["time"],
            answers=obj["answers"],
            handles=tuple(obj["handles"]),
            private_handles=tuple(obj["private_handles"]),
            endpoints=tuple(obj["endpoints"]),
        )
        if record.encode() != data:
            raise RecordError("the record is not in canonical form")
        return record


def endpoint_commitment(endpoint: Mapping, salt: bytes) -> str:
    """The commitment to one endpoint (as the API answers it) under ``salt``."""
    return commitment(ENDPOINT_DOMAIN, salt, endpoint_encoding(endpoint))


def check_endpoints(record: BindingRecord, endpoints: Iterable[Mapping], salts: Iterable) -> None:
    """Check that every endpoint received is one the record commits to.

    ``salts`` are base64 salts, one per endpoint, in the same order. Returns None; raises
    RecordError naming the first endpoint (by its URI) the record does not hold.
    """
    endpoints, salts = list(endpoints), list(salts)
    if len(endpoints) != len(salts):
        raise RecordError(f"{len(endpoints)} endpoints but {len(salts)} salts")
    committed = set(record.endpoints)
    for endpoint, salt in zip(endpoints, salts, strict=True):
        if endpoint_commitment(endpoint, decode_salt(salt)) not in committed:
            uri = endpoint.get("uri") if isinstance(endpoint, Mapping) else endpoint
            raise RecordError(f"the log entry does not commit to the endpoint {uri}")

"""Signed notes of c2sp.org/signed-note with Ed25519 keys.

A note is UTF-8 text ending in a newline, then a blank line, then one line per signature,
``— <key name> <base64(key ID ‖ signature)>``. A key is named by its verifier key
``<name>+<key ID in 8 hex digits>+<base64(0x01 ‖ Ed25519 public key)>``, where the key ID is
the first 4 bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key); a private key is written
``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ Ed25519 seed)>`` as golang.org/x/mod/sumdb/note
``GenerateKey`` writes it. Only the standard library and ``cryptography`` are used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: Signature type byte of Ed25519 keys (c2sp.org/signed-note "Signature types").
ALG_ED25519 = 0x01

#: A note with more signature lines than this is refused, as golang.org/x/mod/sumdb/note does.
MAX_SIGNATURES = 100

_SIG_PREFIX = "— "


class NoteError(ValueError):
    """A key or a note is malformed, or a signature does not verify."""


class UnverifiedNoteError(NoteError):
    """The note is well formed but no signature on it is by a known key.

    ``note`` holds the parsed note, its signatures all in ``unverified``.
    """

    def __init__(self, note: Note) -> None:
        super().__init__("note has no verifiable signatures")
        self.note = note


class InvalidSignatureError(NoteError):
    """A signature by a known key does not verify: the note was altered or forged."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


def is_valid_name(name: str) -> bool:
    """A key name: non-empty, no Unicode white space, no "+" (c2sp.org/signed-note)."""
    return bool(name) and not any(c.isspace() for c in name) and "+" not in name


def key_id(name: str, key: bytes) -> int:
    """The 32-bit key ID: first 4 bytes (big-endian) of SHA-256(name ‖ "\\n" ‖ key).

    ``key`` is the signature type byte followed by the public key.
    """
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + key).digest()[:4], "big")


def decode_base64(text: str) -> bytes:
    """Decode strict standard base64 (RFC 4648 §4, padded, canonical). Raises NoteError."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("not valid base64") from exc
    if base64.b64encode(raw).decode() != text:
        raise NoteError("not canonical base64")
    return raw


_HEX8 = re.compile(r"[0-9a-f]{8}")


def _parse_key_parts(name: str, hex_id: str, data: str, what: str) -> tuple[int, bytes]:
    if not is_valid_name(name) or not _HEX8.fullmatch(hex_id):
        raise NoteError(f"malformed {what}")
    try:
        raw = decode_base64(data)
    except NoteError as exc:
        raise NoteError(f"malformed {what}") from exc
    if not raw:
        raise NoteError(f"malformed {what}")
    if raw[0] != ALG_ED25519:
        raise NoteError(f"unknown algorithm in {what}")
    if len(raw) != 33:
        raise NoteError(f"malformed {what}")
    return int(hex_id, 16), raw[1:]


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures of one name (c2sp.org/signed-note)."""

    name: str
    key_id: int
    public_key: bytes  # the 32-byte Ed25519 public key

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key ``<name>+<hex key ID>+<base64(0x01 ‖ public key)>``.

        Raises NoteError when it is malformed, of an unknown algorithm, or its key ID does
        not match its name and key.
        """
        # The key data is base64 and may itself hold "+".
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise NoteError("malformed verifier key")
        name, hex_id, data = parts
        kid, public = _parse_key_parts(name, hex_id, data, "verifier key")
        if key_id(name, bytes([ALG_ED25519]) + public) != kid:
            raise NoteError("verifier key ID does not match its name and key")
        return cls(name=name, key_id=kid, public_key=public)

    @property
    def key(self) -> str:
        """The verifier key string."""
        data = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{data}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under one name (c2sp.org/signed-note)."""

    name: str
    key_id: int
    seed: bytes = field(repr=False)  # the 32-byte Ed25519 private key seed

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>``.

        Raises NoteError when it is malformed or its key ID does not match the public key
        derived from the seed.
        """
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise NoteError("malformed signer key")
        _, _, name, hex_id, data = parts
        kid, seed = _parse_key_parts(name, hex_id, data, "signer key")
        signer = cls(name=name, key_id=kid, seed=seed)
        if key_id(name, bytes([ALG_ED25519]) + signer.verifier.public_key) != kid:
            raise NoteError("signer key ID does not match its name and key")
        return signer

    @property
    def verifier(self) -> Verifier:
        """The matching verifier (public key)."""
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return Verifier(name=self.name, key_id=self.key_id, public_key=public)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key pair for ``name``: (private key string, verifier key string).

    The formats are those of golang.org/x/mod/sumdb/note ``GenerateKey``. Raises NoteError for
    a name that is not a valid key name.
    """
    if not is_valid_name(name):
        raise NoteError("invalid key name")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = bytes([ALG_ED25519]) + private.public_key().public_bytes_raw()
    kid = key_id(name, public)
    skey = f"PRIVATE+KEY+{name}+{kid:08x}+{base64.b64encode(bytes([ALG_ED25519]) + seed).decode()}"
    vkey = f"{name}+{kid:08x}+{base64.b64encode(public).decode()}"
    return skey, vkey


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name, its key ID and the base64 of key ID ‖ signature."""

    name: str
    key_id: int
    b64: str

    @property
    def line(self) -> str:
        return f"{_SIG_PREFIX}{self.name} {self.b64}\n"


@dataclass
class Note:
    """An opened note: its text, the signatures verified and those by unknown keys."""

    text: str
    signatures: list[Signature] = field(default_factory=list)
    unverified: list[Signature] = field(default_factory=list)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("malformed note")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("malformed note")


def sign(text: str, *signers: Signer, keep: Iterable[Signature] = ()) -> str:
    """The signed note of ``text`` with one signature by each signer.

    ``keep`` are signatures already on the note (cosignatures, say) written before the new
    ones, except those by a key that signs again. The text must end in a newline and hold no
    ASCII control character but newline. Raises NoteError otherwise.
    """
    _check_text(text)
    message = text.encode()
    new = []
    for signer in signers:
        raw = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        new.append(Signature(signer.name, signer.key_id, base64.b64encode(raw).decode()))
    replaced = {(s.name, s.key_id) for s in new}
    lines = []
    for sig in keep:
        if not is_valid_name(sig.name):
            raise NoteError("malformed note")
        if (sig.name, sig.key_id) in replaced:
            continue
        raw = decode_base64(sig.b64)
        if len(raw) < 5 or int.from_bytes(raw[:4], "big") != sig.key_id:
            raise NoteError("malformed note")
        lines.append(sig.line)
    return text + "\n" + "".join(lines) + "".join(s.line for s in new)


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a signed note and verify its signatures by the known ``verifiers``.

    Signatures by unknown keys are kept aside in ``Note.unverified``; repeated lines count
    once. Returns the note when at least one known key signed it. Raises NoteError when
    the note is malformed (or a verifier is listed twice with one key ID),
    InvalidSignatureError when a known key's signature does not verify, and
    UnverifiedNoteError when no known key signed it. The signed message is the text up to
    and including its last newline before the blank line (c2sp.org/signed-note).
    """
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("malformed note") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in message):
        raise NoteError("malformed note")
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("malformed note")

    known: dict[tuple[str, int], list[Verifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)

    note = Note(text=text)
    seen: set[tuple[str, int]] = set()
    seen_unverified: set[str] = set()
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed note")
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise NoteError("malformed note")
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        try:
            raw = decode_base64(b64)
        except NoteError as exc:
            raise NoteError("malformed note") from exc
        if not is_valid_name(name) or len(raw) < 5:
            raise NoteError("malformed note")
        kid, signature = int.from_bytes(raw[:4], "big"), raw[4:]
        sig = Signature(name, kid, b64)
        candidates = known.get((name, kid))
        if not candidates:
            if line not in seen_unverified:
                seen_unverified.add(line)
                note.unverified.append(sig)
            continue
        if len(candidates) > 1:
            raise NoteError(f"ambiguous key {name}+{kid:08x}")
        if (name, kid) in seen:
            continue
        seen.add((name, kid))
        if not candidates[0].verify(text.encode(), signature):
            raise InvalidSignatureError(name, kid)
        note.signatures.append(sig)
    if not note.signatures:
        raise UnverifiedNoteError(note)
    return note

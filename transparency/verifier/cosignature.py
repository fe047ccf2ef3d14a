"""Witness cosignatures of c2sp.org/tlog-cosignature (Ed25519, ``cosignature/v1``).

A cosignature is a signed-note signature line ``— <witness name> base64(key ID ‖
timestamp ‖ signature)`` on a checkpoint: the key ID is the first 4 bytes of
SHA-256(name ‖ "\\n" ‖ 0x04 ‖ public key), the timestamp a big-endian u64 of POSIX
seconds, and the Ed25519 signature covers::

    cosignature/v1
    time <timestamp>
    <the checkpoint's note body, every line>

Witness keys are vkeys ``<name>+<key ID>+base64(0x04 ‖ public key)``. A client's policy
is "k of these n witnesses": :func:`check_witnesses`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .note import NoteError, Signature, decode_base64, is_valid_name

#: Signature type byte of Ed25519 cosignature/v1 keys (c2sp.org/tlog-cosignature).
ALG_COSIGNATURE_V1 = 0x04
_MAX_TIMESTAMP = 2**63 - 1


class CosignatureError(ValueError):
    """A witness key or cosignature is malformed, invalid, or the policy is not met."""


def cosignature_key_id(name: str, public_key: bytes) -> int:
    """SHA-256(name ‖ "\\n" ‖ 0x04 ‖ public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The message an Ed25519 cosignature/v1 signs for a checkpoint body at ``timestamp``."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise CosignatureError("the timestamp is out of range")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class WitnessVerifier:
    """A witness's public key (c2sp.org/tlog-cosignature, Ed25519)."""

    name: str
    key_id: int
    public_key: bytes

    @classmethod
    def from_key(cls, vkey: str) -> WitnessVerifier:
        """Parse a witness vkey ``<name>+<hex key ID>+base64(0x04 ‖ public key)``.

        Raises CosignatureError when it is malformed, not of type 0x04, or its key ID does
        not match.
        """
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not is_valid_name(parts[0]) or len(parts[1]) != 8:
            raise CosignatureError("malformed witness key")
        name, hex_id, data = parts
        try:
            raw = decode_base64(data)
            kid = int(hex_id, 16)
        except (NoteError, ValueError):
            raise CosignatureError("malformed witness key") from None
        if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
            raise CosignatureError("a witness key is an Ed25519 cosignature/v1 key (type 0x04)")
        if cosignature_key_id(name, raw[1:]) != kid:
            raise CosignatureError("witness key ID does not match its name and key")
        return cls(name=name, key_id=kid, public_key=raw[1:])

    @property
    def key(self) -> str:
        """The vkey string."""
        data = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{data}"

    def matches(self, signature: Signature) -> bool:
        """True when the signature line names this witness (name and key ID)."""
        return signature.name == self.name and signature.key_id == self.key_id

    def verify(self, checkpoint_text: str, signature: Signature) -> int:
        """Check this witness's cosignature on ``checkpoint_text``; return its timestamp.

        Raises CosignatureError when the line is malformed or the signature is invalid.
        """
        try:
            raw = decode_base64(signature.b64)
        except NoteError:
            raise CosignatureError(f"malformed cosignature by {self.name}") from None
        if len(raw) != 4 + 8 + 64 or int.from_bytes(raw[:4], "big") != self.key_id:
            raise CosignatureError(f"malformed cosignature by {self.name}")
        timestamp = int.from_bytes(raw[4:12], "big")
        try:
            message = signed_message(checkpoint_text, timestamp)
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(raw[12:], message)
        except (InvalidSignature, CosignatureError):
            raise CosignatureError(f"invalid cosignature by {self.name}") from None
        return timestamp


@dataclass(frozen=True)
class WitnessSigner:
    """A witness's private key: cosigns checkpoints (for witnesses and tests)."""

    name: str
    seed: bytes = field(repr=False)

    @classmethod
    def generate(cls, name: str) -> WitnessSigner:
        """A new random witness key named ``name``."""
        if not is_valid_name(name):
            raise CosignatureError("invalid witness name")
        return cls(name=name, seed=Ed25519PrivateKey.generate().private_bytes_raw())

    @property
    def verifier(self) -> WitnessVerifier:
        """The witness's public key."""
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return WitnessVerifier(self.name, cosignature_key_id(self.name, public), public)

    def cosign(self, checkpoint_text: str, timestamp: int) -> Signature:
        """The cosignature/v1 signature line on ``checkpoint_text`` at ``timestamp``."""
        message = signed_message(checkpoint_text, timestamp)
        sig = Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)
        kid = self.verifier.key_id
        raw = kid.to_bytes(4, "big") + timestamp.to_bytes(8, "big") + sig
        return Signature(self.name, kid, base64.b64encode(raw).decode())


def check_witnesses(
    checkpoint_text: str,
    signatures: Iterable[Signature],
    witnesses: Sequence[WitnessVerifier],
    required: int,
) -> list[WitnessVerifier]:
    """Apply the policy "``required`` of these ``witnesses``" to a checkpoint's signatures.

    ``signatures`` are the note's lines by keys other than the log's (``Note.unverified``).
    Lines by unknown keys are ignored; a line by a known witness that does not verify
    raises. Returns the witnesses whose cosignature verified. Raises CosignatureError when
    fewer than ``required`` distinct witnesses cosigned.
    """
    if required < 0 or required > len(witnesses):
        raise CosignatureError(f"cannot require {required} of {len(witnesses)} witnesses")
    good: list[WitnessVerifier] = []
    for witness in witnesses:
        for sig in signatures:
            if witness.matches(sig):
                witness.verify(checkpoint_text, sig)
                good.append(witness)
                break
    if len(good) < required:
        raise CosignatureError(
            f"{len(good)} of the {len(witnesses)} witnesses cosigned; {required} are required"
        )
    return good

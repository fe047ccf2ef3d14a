"""Transparency log proofs of c2sp.org/tlog-proof@v1: index, inclusion proof, checkpoint.

::

    c2sp.org/tlog-proof@v1
    extra <base64>            (optional)
    index <decimal>
    <base64 hash>             (zero or more: the audit path, nearest the leaf first)

    <the signed checkpoint, verbatim, with any cosignatures>
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .note import NoteError, decode_base64
from .tlog import HASH_SIZE

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"index (0|[1-9][0-9]*)")


class ProofFormatError(ValueError):
    """A tlog proof is not in the c2sp.org/tlog-proof@v1 format."""


@dataclass(frozen=True)
class TlogProof:
    """A parsed proof: leaf index, audit path, the signed checkpoint and any extra data."""

    index: int
    path: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def text(self) -> str:
        """The proof in the c2sp.org/tlog-proof@v1 text format."""
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(h).decode() for h in self.path)
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str) -> TlogProof:
        """Read a proof. Raises ProofFormatError naming what is malformed."""
        if not isinstance(text, str):
            raise ProofFormatError("the proof is not text")
        head, sep, checkpoint = text.partition("\n\n")
        if not sep or not checkpoint:
            raise ProofFormatError("the proof has no checkpoint after an empty line")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise ProofFormatError(f"the proof does not start with {HEADER}")
        rest = lines[1:]
        extra = None
        if rest and rest[0].startswith("extra "):
            try:
                extra = decode_base64(rest[0][len("extra ") :])
            except NoteError:
                raise ProofFormatError("the extra line is not base64") from None
            rest = rest[1:]
        if not rest or not _INDEX.fullmatch(rest[0]):
            raise ProofFormatError("the proof has no valid index line")
        index = int(rest[0][len("index ") :])
        path = []
        for line in rest[1:]:
            try:
                node = decode_base64(line)
            except NoteError:
                raise ProofFormatError("an inclusion proof line is not base64") from None
            if len(node) != HASH_SIZE:
                raise ProofFormatError("an inclusion proof line is not a 32-byte hash")
            path.append(node)
        return cls(index=index, path=tuple(path), checkpoint=checkpoint, extra=extra)


def format_proof(index: int, path: Sequence[bytes], checkpoint: str) -> str:
    """The c2sp.org/tlog-proof@v1 text of leaf ``index``'s ``path`` under ``checkpoint``."""
    return TlogProof(index=index, path=tuple(path), checkpoint=checkpoint).text()

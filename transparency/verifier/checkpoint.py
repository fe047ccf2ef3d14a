"""Checkpoints of c2sp.org/tlog-checkpoint: a log's signed statement of its size and root.

The note text is the origin line (the log's name), the tree size in decimal, the root hash
in standard base64, then any extension lines, each line ending in a newline; the log signs
it as a c2sp.org/signed-note.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .note import Note, NoteError, Signature, Signer, Verifier, decode_base64, open_note, sign
from .tlog import HASH_SIZE

_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 2**64 - 1


class CheckpointError(ValueError):
    """A checkpoint's text is malformed, names another log, or lacks the log's signature."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's origin, tree size and root hash, with any extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The checkpoint body (the note text): origin, size, root hash, extensions.

        Raises CheckpointError for an empty origin, a size out of range, a root that is not
        a 32-byte hash, or an empty or multi-line extension.
        """
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("the origin must be one non-empty line")
        if not 0 <= self.size <= _MAX_SIZE:
            raise CheckpointError("the tree size is out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError("the root hash is not a 32-byte hash")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("an extension line is empty or holds a newline")
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "".join(f"{line}\n" for line in [*lines, *self.extensions])

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (c2sp.org/tlog-checkpoint "Note text").

        Raises CheckpointError when a line is missing or empty, the size is not a decimal
        integer without leading zeros, or the root hash is not base64 of 32 bytes.
        """
        if not text.endswith("\n"):
            raise CheckpointError("the checkpoint does not end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("the checkpoint needs an origin, a tree size and a root hash")
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise CheckpointError("the origin line is empty")
        if not _SIZE.fullmatch(size_text) or int(size_text) > _MAX_SIZE:
            raise CheckpointError("the tree size is not a decimal number")
        try:
            root = decode_base64(root_text)
        except NoteError as exc:
            raise CheckpointError("the root hash is not base64") from exc
        if len(root) != HASH_SIZE:
            raise CheckpointError("the root hash is not a 32-byte hash")
        if any(not line for line in extensions):
            raise CheckpointError("an extension line is empty")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(
    checkpoint: Checkpoint, signer: Signer, *, keep: Iterable[Signature] = ()
) -> str:
    """The signed note of ``checkpoint`` by the log's key ``signer``.

    ``keep`` carries over other signatures (witness cosignatures). Raises CheckpointError
    for a checkpoint that cannot be written.
    """
    return sign(checkpoint.text(), signer, keep=keep)


def open_checkpoint(
    message: str | bytes,
    log_key: Verifier,
    *,
    origin: str | None = None,
    others: Iterable[Verifier] = (),
) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint by the log's key and parse it.

    The checkpoint must carry a valid signature by ``log_key`` and name the expected
    ``origin`` (by default the log key's name, as Worldbook's log names its key).
    ``others`` are further keys (witnesses) whose signatures are checked too when present.
    Returns the checkpoint and the opened note. Raises NoteError (from :func:`open_note`)
    when the note is malformed or a signature is invalid, and CheckpointError when the log
    did not sign it, it names another origin, or its body is malformed.
    Standards: c2sp.org/tlog-checkpoint, c2sp.org/signed-note.
    """
    note = open_note(message, [log_key, *others])
    if not any(s.name == log_key.name and s.key_id == log_key.key_id for s in note.signatures):
        raise CheckpointError("the checkpoint is not signed by the log's key")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != (log_key.name if origin is None else origin):
        raise CheckpointError("the checkpoint names another log (origin)")
    return checkpoint, note

"""Replay the whole log against the database: what ``transparency_monitor`` runs.

A monitor reads every entry in index order and checks that the log is what it claims to
be and says what the directory holds:

- the indexes run 0, 1, 2, … with no gap, and every published checkpoint's root is the
  tree hash of the entries below its size, signed by the log's key; the tree's stored size
  and root are those of all the entries;
- every binding record is canonical, and each handle's records form one chain: ``seq``
  0, 1, 2, … in log order, each ``prev`` the leaf hash of the record before;
- each handle's newest record (integrated or pending) holds what the handle answers in
  the database now: whether it answers, its verified handles, and commitments to exactly
  its endpoints and phone-number handles (opened with the record's kept secret).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from transparency.bindings import binding_of
from transparency.keys import log_signer
from transparency.models import LogCheckpoint, LogHandleHead, LogLeaf, LogTree
from transparency.verifier import tlog
from transparency.verifier.binding import (
    ENDPOINT_DOMAIN,
    HANDLE_DOMAIN,
    BindingRecord,
    RecordError,
    commitment,
    item_salt,
)
from transparency.verifier.checkpoint import CheckpointError, open_checkpoint
from transparency.verifier.note import NoteError

CHUNK = 5000


@dataclass
class Report:
    """What a replay found: counts, and one line per problem."""

    entries: int = 0
    checkpoints: int = 0
    handles: int = 0
    problems: list[str] = field(default_factory=list)


class _Root:
    """The RFC 9162 tree hash of a growing list of leaves, from its perfect subtrees."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []

    def add(self, leaf: bytes) -> None:
        self.stack.append((1, leaf))
        while len(self.stack) > 1 and self.stack[-1][0] == self.stack[-2][0]:
            (size, right), (_, left) = self.stack.pop(), self.stack.pop()
            self.stack.append((size * 2, tlog.node_hash(left, right)))

    def root(self) -> bytes:
        if not self.stack:
            return tlog.EMPTY_ROOT
        h = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            h = tlog.node_hash(left, h)
        return h


def _integrated() -> Iterator[LogLeaf]:
    last = -1
    while True:
        rows = list(
            LogLeaf.objects.filter(index__gt=last)
            .order_by("index")[:CHUNK]
            .only("id", "index", "data", "handle", "seq")
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].index


def log_replay(*, progress: Callable[[int], None] | None = None) -> Report:
    """Replay the log against the database; return a :class:`Report` of what is wrong.

    Input: ``progress``, called with the number of entries read every 5,000. Output: the
    report; a problem found is a line of it, never an exception (without a signing key,
    each checkpoint is reported as unchecked). Reads the entries in chunks, so the memory
    it needs grows with the number of handles, not of entries.
    """
    report = Report()
    signer = log_signer()
    checkpoints = {c.size: c for c in LogCheckpoint.objects.all()}
    report.checkpoints = len(checkpoints)
    root = _Root()
    heads: dict[str, tuple[int, bytes]] = {}

    def check_checkpoint(size: int) -> None:
        published = checkpoints.get(size)
        if published is None:
            return
        if bytes(published.root_hash) != root.root():
            report.problems.append(f"checkpoint {size}: its root is not the entries' tree hash")
        if signer is None:
            report.problems.append(f"checkpoint {size}: no signing key to check it with")
            return
        try:
            checkpoint, _ = open_checkpoint(published.note, signer.verifier)
        except (NoteError, CheckpointError) as exc:
            report.problems.append(f"checkpoint {size}: {exc}")
            return
        if (checkpoint.size, checkpoint.root_hash) != (size, bytes(published.root_hash)):
            report.problems.append(f"checkpoint {size}: its note names another tree")

    def chain(row: LogLeaf, where: str) -> None:
        data = bytes(row.data)
        try:
            record = BindingRecord.parse(data)
        except RecordError as exc:
            report.problems.append(f"{where}: {exc}")
            return
        if (record.handle, record.seq) != (row.handle, row.seq):
            report.problems.append(f"{where}: the record names @{record.handle} {record.seq}")
        seq, prev = heads.get(record.handle, (-1, None))
        if record.seq != seq + 1:
            report.problems.append(
                f"{where}: @{record.handle} record {record.seq} follows record {seq}"
            )
        expected = None if prev is None else base64.b64encode(prev).decode()
        if record.prev != expected:
            report.problems.append(f"{where}: @{record.handle} prev is not the record before")
        heads[record.handle] = (record.seq, tlog.leaf_hash(data))

    for row in _integrated():
        if row.index != report.entries:
            report.problems.append(f"entry {report.entries} is missing (next is {row.index})")
            break
        root.add(tlog.leaf_hash(bytes(row.data)))
        report.entries += 1
        check_checkpoint(report.entries)
        if row.handle is not None:
            chain(row, f"entry {row.index}")
        if progress is not None and report.entries % CHUNK == 0:
            progress(report.entries)

    tree = LogTree.objects.filter(id=1).first()
    size, stored_root = (tree.size, bytes(tree.root_hash)) if tree else (0, tlog.EMPTY_ROOT)
    if size != report.entries or stored_root != root.root():
        report.problems.append(
            f"the tree says {size} leaves; the entries make {report.entries} with another root"
            if stored_root != root.root()
            else f"the tree says {size} leaves; there are {report.entries}"
        )
    if any(s > report.entries for s in checkpoints):
        report.problems.append("a checkpoint names more leaves than the log holds")

    pending = LogLeaf.objects.filter(index__isnull=True, handle__isnull=False).order_by("id")
    for row in pending:
        chain(row, f"pending leaf {row.pk}")
    for handle in LogHandleHead.objects.all():
        report.handles += 1
        _check_current(handle, heads.get(handle.handle), report)
    for canonical in unrecorded_handles():
        report.problems.append(f"@{canonical}: answers, but the log has no record of it")
    return report


def unrecorded_handles() -> list[str]:
    """Directory handles of active entries that have no record in the log (entries made
    before the log had a key, or by a bulk load that sent no signals)."""
    from directory.models import Entry

    recorded = LogHandleHead.objects.filter(seq__gte=0).values("handle")
    return list(
        Entry.objects.filter(status=Entry.Status.ACTIVE)
        .exclude(handle_canonical__in=recorded)
        .order_by("handle_canonical")
        .values_list("handle_canonical", flat=True)
    )


def record_unrecorded(*, batch: int = 500) -> int:
    """Append the first record of every handle :func:`unrecorded_handles` names, ``batch``
    handles per transaction; return how many were recorded."""
    from transparency.bindings import binding_changed

    handles = unrecorded_handles()
    for start in range(0, len(handles), batch):
        binding_changed(handles[start : start + batch])
    return len(handles)


def _check_current(head: LogHandleHead, known: tuple[int, bytes] | None, report: Report) -> None:
    """Check that the newest record of ``head``'s handle says what the database answers."""
    name = f"@{head.handle}"
    if known is None:
        if head.seq >= 0:
            report.problems.append(f"{name}: the head names record {head.seq}, not in the log")
        return
    if (head.seq, bytes(head.leaf_hash)) != known:
        report.problems.append(f"{name}: the head is not the newest record")
    leaf = LogLeaf.objects.get(handle=head.handle, seq=known[0])
    record = BindingRecord.parse(bytes(leaf.data))
    now = binding_of(head.handle)
    secret = bytes(leaf.secret)
    endpoints = sorted(
        commitment(ENDPOINT_DOMAIN, item_salt(secret, ENDPOINT_DOMAIN, e), e) for e in now.endpoints
    )
    private = sorted(
        commitment(HANDLE_DOMAIN, item_salt(secret, HANDLE_DOMAIN, h), h)
        for h in now.private_handles
    )
    if record.answers != now.answers:
        says = "answers" if record.answers else "answers nothing"
        report.problems.append(f"{name}: the log says it {says}; the directory differs")
    elif (
        list(record.handles) != sorted(now.handles)
        or list(record.endpoints) != endpoints
        or list(record.private_handles) != private
    ):
        report.problems.append(
            f"{name}: the directory answers other handles or endpoints than its newest record"
        )

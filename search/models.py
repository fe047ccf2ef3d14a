"""Tables of the database search backend (``SEARCH_BACKEND=database``).

The index is derived data: it can be dropped and rebuilt from the directory at any time
(``manage.py search_reindex``). It holds only what :func:`search.documents.entry_document`
makes public.

- :class:`SearchDocument`: one row per indexed entry, with its document.
- :class:`SearchTerm`: the postings, one row per (entry, folded term, field); an exact
  B-tree lookup finds a word, a left-anchored range (``LIKE 'ab%'``) finds a prefix. Each
  row repeats the two values ranking ties are broken by, so ranking reads no other table
  (an entry's postings are always rewritten together, so the copies cannot disagree).
- :class:`SearchPrefix`: the entries under each two- to four-character prefix, in ranking
  order, for the first keystrokes of search-as-you-type.
- :class:`SearchWord`: the vocabulary of long words, for two-typo lookups.
- :class:`TermVariant`: the SymSpell dictionary: every one-deletion variant of every indexed
  word of five letters or more, mapped to that word. It is shared by all entries, so a
  typo-tolerant lookup reads a handful of dictionary rows before it touches any posting.
"""

from __future__ import annotations

from django.db import models


class SearchDocument(models.Model):
    """An entry as indexed: present exactly when the entry is listed (and, for a deleted
    entry, until its removal task has run)."""

    # No database constraint and no cascade: when an entry is deleted its index rows stay
    # until the removal task runs, which reads the entry's words from them to prune the
    # typo dictionaries of exactly those words (search.tasks.remove_entries). Searches
    # never show such a row: every hit is re-read from the directory.
    entry = models.OneToOneField(
        "directory.Entry",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    document = models.JSONField(help_text="search.documents.entry_document() of the entry.")
    indexed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"document of entry {self.entry_id}"


class SearchTerm(models.Model):
    """One folded term under which an indexed entry is found (see search.text)."""

    class Field(models.IntegerChoices):
        HANDLE = 0, "Directory handle (whole)"
        VERIFIED_HANDLE = 1, "Verified external handle (whole)"
        WORD = 2, "Word"

    # The unique constraint below leads with document, so it also serves this foreign key.
    document = models.ForeignKey(
        SearchDocument, on_delete=models.CASCADE, related_name="terms", db_index=False
    )
    term = models.CharField(max_length=512)
    field = models.PositiveSmallIntegerField(choices=Field.choices)
    verified = models.BooleanField(help_text="The entry holds a verified external handle.")
    handle_canonical = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "field", "term"], name="search_term_unique_per_document"
            ),
        ]
        indexes = [
            # Led by field, so a lookup reads only the postings of the fields it asks for
            # (words, or whole handles). varchar_pattern_ops lets PostgreSQL answer both
            # ``term = x`` and the left-anchored ``term LIKE 'x%'`` from this index whatever
            # the database's collation. It carries every other column a search reads, so
            # PostgreSQL answers searches from the index alone (index-only scans).
            # SQLite ignores both options and uses a plain B-tree (binary collation).
            models.Index(
                fields=["field", "term"],
                opclasses=["int2_ops", "varchar_pattern_ops"],
                include=["document", "verified", "handle_canonical"],
                name="search_term_lookup",
            ),
        ]

    def __str__(self) -> str:
        return self.term


class SearchPrefix(models.Model):
    """The entries under each two- to four-character prefix of their terms.

    Search-as-you-type starts with two letters, and a short prefix ("ma") matches a tenth
    of a large directory: ranking and counting all of its postings takes hundreds of
    milliseconds. This table holds, once per entry, every prefix of ``PREFIX_LENGTHS``
    characters of every term the entry is found under (any field), with the two values
    ties are broken by, and an index in ranking order: the first page of such a query is
    the first rows of one index range, its count an index-only count. Rewritten with the
    entry's postings.
    """

    PREFIX_LENGTHS = (2, 3, 4)

    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=4)
    verified = models.BooleanField()
    handle_canonical = models.CharField(max_length=60)

    class Meta:
        indexes = [
            models.Index(
                "prefix",
                models.F("verified").desc(),
                "handle_canonical",
                "document",
                name="search_prefix_ranked",
            ),
        ]

    def __str__(self) -> str:
        return self.prefix


class TermVariant(models.Model):
    """A one-deletion variant of an indexed word (SymSpell symmetric deletion)."""

    variant = models.CharField(max_length=64)
    term = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "term"], name="search_variant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.variant} → {self.term}"


class SearchWord(models.Model):
    """The vocabulary: every distinct indexed word of seven characters or more.

    Two-typo lookups (query words of nine characters or more, so indexed words of seven or
    more) read candidates from it: on PostgreSQL through a ``pg_trgm`` GIN index on
    ``word`` (created by migration 0002, PostgreSQL only), on SQLite by ``length``. The
    candidates are then confirmed with a real Damerau–Levenshtein distance.
    """

    word = models.CharField(max_length=64, primary_key=True)
    length = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["length"], name="search_word_length")]

    def __str__(self) -> str:
        return self.word


class PendingSync(models.Model):
    """An entry whose index update has not yet succeeded: the durable "dirty" marker.

    Written (in the database, not only the broker) when a sync fails with a transient error,
    deleted when a later sync of the entry succeeds. ``search.drain_pending`` (Celery beat)
    syncs what is left, so an update is never lost even when every retry of its task failed
    or its message was lost with the broker.
    """

    entry_id = models.BigIntegerField(primary_key=True)
    first_failed_at = models.DateTimeField(auto_now_add=True)
    last_failed_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["last_failed_at"], name="search_pending_age")]

    def __str__(self) -> str:
        return f"pending sync of entry {self.entry_id}"


class ReindexCheckpoint(models.Model):
    """Where an interrupted ``search_reindex`` stopped, per backend, for ``--resume``.

    ``last_entry_id``: the highest entry id whose batch is written; ``index_uid``: the
    fresh index being filled (Meilisearch; empty for the database backend). Deleted when the
    rebuild completes.
    """

    backend = models.CharField(max_length=40, primary_key=True)
    last_entry_id = models.BigIntegerField(default=0)
    index_uid = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.backend} rebuild at entry {self.last_entry_id}"

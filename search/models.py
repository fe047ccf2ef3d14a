"""Tables of the database search backend (``SEARCH_BACKEND=database``).

The index is derived data: it can be dropped and rebuilt from the directory at any time
(``manage.py search_reindex``). It holds only what :func:`search.documents.entry_document`
makes public.

- :class:`SearchDocument`: one row per indexed entry, with its document.
- :class:`SearchTerm`: the postings, one row per (entry, folded term, field); an exact
  B-tree lookup finds a word, a left-anchored range (``LIKE 'ab%'``) finds a prefix. Each
  row repeats the two values ranking ties are broken by, so ranking reads no other table
  (an entry's postings are always rewritten together, so the copies cannot disagree).
- :class:`TermVariant`: the SymSpell dictionary: every one-deletion variant of every indexed
  word of five letters or more, mapped to that word. It is shared by all entries, so a
  typo-tolerant lookup reads a handful of dictionary rows before it touches any posting.
"""

from __future__ import annotations

from django.db import models


class SearchDocument(models.Model):
    """An entry as indexed: present exactly when the entry is listed."""

    entry = models.OneToOneField(
        "directory.Entry", on_delete=models.CASCADE, primary_key=True, related_name="+"
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
            # varchar_pattern_ops lets PostgreSQL answer both ``term = x`` and the
            # left-anchored ``term LIKE 'x%'`` from this index whatever the database's
            # collation; field and document are carried in it for index-only scans.
            # SQLite ignores both options and uses a plain B-tree (binary collation).
            models.Index(
                fields=["term"],
                opclasses=["varchar_pattern_ops"],
                include=["field", "document"],
                name="search_term_lookup",
            ),
        ]

    def __str__(self) -> str:
        return self.term


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

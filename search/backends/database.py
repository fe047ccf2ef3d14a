"""The ``database`` search backend: the index lives in the directory's own database.

It runs on SQLite and on PostgreSQL with the same tables (:mod:`search.models`) and the
same SQL, made of indexed lookups only:

- exact words and whole handles: ``term = …`` / ``term IN (…)`` on a B-tree;
- prefixes (the last query word only, as in Meilisearch): a left-anchored range,
  ``term LIKE 'ab%'`` on PostgreSQL (``varchar_pattern_ops`` index) and
  ``term >= 'ab' AND term < 'ac'`` on SQLite (binary collation);
- one typo: the query word's one-deletion variants are looked up in the SymSpell dictionary
  (:class:`search.models.TermVariant`), the candidates confirmed with a Damerau–Levenshtein
  distance of 1 (``rapidfuzz``), and then looked up as exact words; two typos: trigram
  candidates from the vocabulary (:class:`search.models.SearchWord`), confirmed alike.

One statement (:meth:`DatabaseBackend.ranked_sql`) then ranks every entry that matches
every word (see :meth:`SearchBackend.search` for the order), returns one page of them and
counts them all; a query of one short word reads :class:`search.models.SearchPrefix`
instead. The measurements behind this design are in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
)

from directory.models import Entry, Handle
from search.backends.base import BackendHealth, Progress, SearchBackend
from search.documents import EntryDocument, entry_document, listed_documents
from search.models import (
    ReindexCheckpoint,
    SearchDocument,
    SearchPrefix,
    SearchTerm,
    SearchWord,
    TermVariant,
)
from search.text import (
    PREFIX_MIN_LENGTH,
    RANK_EXACT,
    RANK_HANDLE,
    RANK_PREFIX,
    RANK_TYPO,
    RANK_TYPO2,
    RANK_VERIFIED_HANDLE,
    TYPO2_MIN_LENGTH,
    ParsedQuery,
    deletions,
    fold,
    handle_name,
    index_words,
    parse_query,
    typo_budget,
    typo_distance,
)

Field = SearchTerm.Field
TERM_MAX_LENGTH = SearchTerm._meta.get_field("term").max_length
# Larger than any real score (eight words, each at worst a typo).
NO_MATCH = 1000
# Words two edits from a query word of nine characters have seven or more.
VOCABULARY_MIN_LENGTH = TYPO2_MIN_LENGTH - 2
# pg_trgm similarity a two-typo candidate must reach. An edit changes at most three of a
# word's trigrams (a transposition four), so two substitutions in nine letters keep 0.25;
# two transpositions, or edits that ruin more trigrams, may fall below and are missed. A
# lower threshold finds them too but reads many times more of the trigram index (at a
# million entries 0.15 costs about 90 ms a lookup, 0.25 about 10–50 ms); the benchmark
# measures the recall this leaves (docs/benchmarks.md).
TRIGRAM_THRESHOLD = 0.25
# The columns written for each posting and each prefix row, in the order of their tuples.
POSTING_COLUMNS = ("document_id", "term", "field", "verified", "handle_canonical")
PREFIX_COLUMNS = ("document_id", "prefix", "verified", "handle_canonical")


def _copy_rows(cursor, table: str, columns: tuple[str, ...], rows: Sequence[tuple]) -> None:
    """Write ``rows`` (tuples in ``columns`` order) into ``table`` (a quoted name) with
    PostgreSQL's ``COPY … FROM STDIN`` through psycopg's copy; nothing when there are none."""
    if not rows:
        return
    with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _listed_with_handles() -> QuerySet[Entry]:
    return Entry.objects.listed().prefetch_related(
        Prefetch("handles", queryset=Handle.objects.only("entry_id", "kind", "canonical", "status"))
    )


def document_terms(document: EntryDocument) -> set[tuple[int, str]]:
    """The ``(field, term)`` pairs under which ``document`` is found.

    The whole directory handle (field ``HANDLE``) and each whole verified external handle
    (``VERIFIED_HANDLE``), folded; the words (``WORD``, see :func:`search.text.index_words`)
    of the nickname, of the handle and of the name part of each verified handle
    (:func:`search.text.handle_name`).
    """
    terms = {(Field.HANDLE.value, fold(document["handle_canonical"])[:TERM_MAX_LENGTH])}
    words = index_words(document["nickname"]) + index_words(document["handle"])
    for value in document["verified_handles"]:
        terms.add((Field.VERIFIED_HANDLE.value, fold(value)[:TERM_MAX_LENGTH]))
        words += index_words(handle_name(value))
    terms.update((Field.WORD.value, word) for word in words)
    return terms


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be stored; skip past them
        last = 0xE000
    if last > 0x10FFFF:
        return None
    return prefix[:-1] + chr(last)


class DatabaseBackend(SearchBackend):
    """Search over :mod:`search.models` in the default database (SQLite or PostgreSQL)."""

    name = "database"
    transient_errors = (OperationalError, InterfaceError)

    # ------------------------------------------------------------------ writing

    def sync_entry(self, entry_id: int) -> None:
        """See :meth:`SearchBackend.sync_entry`.

        The entry's row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite runs one
        writer at a time) so two syncs of one entry cannot interleave, and each reads what
        was committed before it. A document equal to the one indexed is not rewritten.
        Words the entry no longer uses are then pruned from the typo dictionaries, if no
        other entry uses them.
        """
        alias = router.db_for_write(SearchDocument)
        with transaction.atomic(using=alias):
            list(Entry.objects.select_for_update().filter(pk=entry_id).values_list("pk"))
            entry = _listed_with_handles().filter(pk=entry_id).first()
            old_words = self._words_of([entry_id])
            if entry is None:
                SearchDocument.objects.filter(pk=entry_id).delete()
            else:
                document = entry_document(entry)
                indexed = (
                    SearchDocument.objects.filter(pk=entry_id)
                    .values_list("document", flat=True)
                    .first()
                )
                if indexed == document:
                    return
                self._write([document])
        self._prune_words(alias, old_words)

    def remove_entry(self, entry_id: int) -> None:
        """See :meth:`SearchBackend.remove_entry`.

        Also prunes the typo dictionaries (:class:`TermVariant`, :class:`SearchWord`) of
        the entry's words that no other posting uses: only those words are looked at, so
        a removal costs the same in a directory of any size.
        """
        alias = router.db_for_write(SearchDocument)
        with transaction.atomic(using=alias):
            words = self._words_of([entry_id])
            SearchDocument.objects.filter(pk=entry_id).delete()
        self._prune_words(alias, words)

    def rebuild(
        self, progress: Progress | None = None, *, batch_size: int = 500, resume: bool = False
    ) -> int:
        """See :meth:`SearchBackend.rebuild`.

        Entries are read in primary-key order, ``batch_size`` per transaction, each batch
        locked and rewritten whole, so searches keep answering while it runs; the batch's
        :class:`ReindexCheckpoint` is written in the same transaction. Documents of
        entries no longer listed are then dropped, and dictionary words no posting uses
        any more are pruned (one pass over the dictionaries).
        """
        alias = router.db_for_write(SearchDocument)
        connection = connections[alias]
        checkpoint = ReindexCheckpoint.objects.filter(backend=self.name).first()
        last_pk = checkpoint.last_entry_id if (resume and checkpoint) else 0
        self._ensure_lookup_index(connection)
        # An empty index on PostgreSQL is filled by the bulk-load path (see _load_begin).
        loading = (
            connection.vendor == "postgresql"
            and not last_pk
            and not SearchDocument.objects.using(alias).exists()
        )
        variant_table = self._load_begin(connection) if loading else None
        done = 0
        try:
            while True:
                with transaction.atomic(using=alias):
                    batch = list(
                        Entry.objects.select_for_update()
                        .filter(pk__gt=last_pk)
                        .order_by("pk")
                        .values_list("pk", flat=True)[:batch_size]
                    )
                    if not batch:
                        break
                    last_pk = batch[-1]
                    listed = listed_documents(batch)
                    if not loading:
                        # (A bulk load started from an empty index: the sweep after the
                        # loop drops what syncs meanwhile wrote for entries not listed.)
                        SearchDocument.objects.filter(pk__in=batch).exclude(
                            pk__in=[document["id"] for document in listed]
                        ).delete()
                    self._write(listed, variant_table=variant_table)
                    ReindexCheckpoint.objects.update_or_create(
                        backend=self.name, defaults={"last_entry_id": last_pk}
                    )
                done += len(listed)
                if progress is not None:
                    progress(len(listed))
        finally:
            if loading:
                self._load_end(connection, variant_table)
        with transaction.atomic(using=alias):
            SearchDocument.objects.exclude(
                Exists(Entry.objects.listed().filter(pk=OuterRef("pk")))
            ).delete()
        if not loading:
            self._prune_words(alias, None)
        ReindexCheckpoint.objects.filter(backend=self.name).delete()
        return done

    # PostgreSQL bulk load of an empty index: the postings' lookup index is dropped while
    # the postings go in and built once at the end (one sort instead of millions of random
    # B-tree inserts), and the typo variants are gathered in an unindexed temporary table
    # and inserted once, sorted and without duplicates. Searches meanwhile answer from an
    # index that was empty anyway; syncs that run meanwhile write as usual.
    _VARIANT_LOAD_TABLE = "search_variant_load"

    # The indexes a bulk load drops and builds once at its end: (model, index name).
    _LOAD_INDEXES = ((SearchTerm, "search_term_lookup"), (SearchPrefix, "search_prefix_ranked"))

    @staticmethod
    def _load_index(model, name: str):
        return next(i for i in model._meta.indexes if i.name == name)

    def _ensure_lookup_index(self, connection) -> None:
        """Re-create the indexes a bulk load drops, if one was killed before its end."""
        if connection.vendor != "postgresql":
            return
        for model, name in self._LOAD_INDEXES:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
                present = cursor.fetchone()
            if not present:
                self._alter_load_index(connection, model, name, add=True)

    def _alter_load_index(self, connection, model, name: str, *, add: bool) -> None:
        with connection.cursor() as cursor:
            # Inside an outer transaction, deferred foreign-key checks of rows written
            # earlier would make PostgreSQL refuse to alter the table; run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with connection.schema_editor() as editor:
            if add:
                editor.add_index(model, self._load_index(model, name))
            else:
                editor.remove_index(model, self._load_index(model, name))

    def _load_begin(self, connection) -> str:
        for model, name in self._LOAD_INDEXES:
            self._alter_load_index(connection, model, name, add=False)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {self._VARIANT_LOAD_TABLE} "
                "(variant varchar(64), term varchar(64))"
            )
            cursor.execute(f"TRUNCATE {self._VARIANT_LOAD_TABLE}")
        return self._VARIANT_LOAD_TABLE

    def _load_end(self, connection, variant_table: str) -> None:
        quote = connection.ops.quote_name
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(TermVariant._meta.db_table)} (variant, term) "
                f"SELECT DISTINCT variant, term FROM {variant_table} ORDER BY 1, 2 "
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute(f"DROP TABLE {variant_table}")
            cursor.execute(f"DROP TABLE IF EXISTS {self._DOCUMENT_LOAD_TABLE}")
        self._ensure_lookup_index(connection)
        with connection.cursor() as cursor:
            # Postings of one term then sit side by side: a search reads a few pages per
            # term instead of one page per matching entry (3x faster at a million entries).
            cursor.execute(f"CLUSTER {quote(SearchTerm._meta.db_table)} USING search_term_lookup")
            # VACUUM also marks the pages all-visible, for index-only scans; it cannot run
            # inside a transaction (a test's), where ANALYZE alone is done.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            for model in (SearchDocument, SearchTerm, SearchPrefix, TermVariant, SearchWord):
                cursor.execute(f"{command} {quote(model._meta.db_table)}")

    def indexed_documents(self, batch_size: int = 1000) -> Iterator[dict]:
        """See :meth:`SearchBackend.indexed_documents`: the stored documents, by entry id."""
        last_pk = 0
        while True:
            rows = list(
                SearchDocument.objects.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", "document")[:batch_size]
            )
            if not rows:
                return
            last_pk = rows[-1][0]
            for _, document in rows:
                yield document

    @staticmethod
    def _words_of(entry_ids: list[int]) -> set[str]:
        return set(
            SearchTerm.objects.filter(document_id__in=entry_ids, field=Field.WORD).values_list(
                "term", flat=True
            )
        )

    def _write(self, documents: list[EntryDocument], *, variant_table: str | None = None) -> None:
        """Replace the index rows of ``documents``; call inside a transaction. With
        ``variant_table`` (a bulk load), typo variants go to that table instead."""
        ids = [document["id"] for document in documents]
        connection = connections[router.db_for_write(SearchTerm)]
        if variant_table is not None:
            # A bulk load (PostgreSQL): the same statements without the ORM's per-row cost.
            self._copy_documents(connection, ids, documents)
        else:
            SearchTerm.objects.filter(document_id__in=ids).delete()
            SearchPrefix.objects.filter(document_id__in=ids).delete()
            SearchDocument.objects.bulk_create(
                [
                    SearchDocument(entry_id=document["id"], document=document)
                    for document in documents
                ],
                update_conflicts=True,
                unique_fields=["entry"],
                update_fields=["document", "indexed_at"],
            )
        postings: list[tuple[int, str, int, bool, str]] = []  # POSTING_COLUMNS
        prefixes: list[tuple[int, str, bool, str]] = []  # PREFIX_COLUMNS
        words: set[str] = set()
        for document in documents:
            ranking = (document["verified"], document["handle_canonical"])
            terms = document_terms(document)
            for field, term in terms:
                postings.append((document["id"], term, field, *ranking))
                if field == Field.WORD:
                    words.add(term)
            prefixes.extend(
                (document["id"], prefix, *ranking)
                for prefix in {
                    term[:length]
                    for _, term in terms
                    for length in SearchPrefix.PREFIX_LENGTHS
                    if len(term) >= length
                }
            )
        variants = [(variant, word) for word in words for variant in deletions(word)]
        vocabulary = [word for word in words if len(word) >= VOCABULARY_MIN_LENGTH]
        # Postings first: a concurrent prune (which locks the postings table) then either
        # sees them or runs entirely before the dictionary rows below are written.
        if connection.vendor == "postgresql":
            self._insert_arrays(
                connection, postings, prefixes, variants, vocabulary, variant_table=variant_table
            )
            return
        for model, columns, rows in (
            (SearchTerm, POSTING_COLUMNS, postings),
            (SearchPrefix, PREFIX_COLUMNS, prefixes),
        ):
            model.objects.bulk_create(
                (model(**dict(zip(columns, row, strict=True))) for row in rows), batch_size=2000
            )
        TermVariant.objects.bulk_create(
            (TermVariant(variant=variant, term=word) for variant, word in variants),
            batch_size=2000,
            ignore_conflicts=True,
        )
        SearchWord.objects.bulk_create(
            (SearchWord(word=word, length=len(word)) for word in vocabulary),
            batch_size=2000,
            ignore_conflicts=True,
        )

    _DOCUMENT_LOAD_TABLE = "search_document_load"

    def _copy_documents(self, connection, ids: list[int], documents: list[EntryDocument]) -> None:
        """Bulk-load path of :meth:`_write` for the documents: their old postings deleted
        with one array parameter, the documents copied (``COPY``) into a temporary table
        and upserted from it in one statement."""
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model in (SearchTerm, SearchPrefix):
                cursor.execute(
                    f"DELETE FROM {quote(model._meta.db_table)} WHERE document_id = ANY(%s)",
                    [ids],
                )
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {self._DOCUMENT_LOAD_TABLE} "
                "(entry_id bigint, document jsonb)"
            )
            _copy_rows(
                cursor,
                self._DOCUMENT_LOAD_TABLE,
                ("entry_id", "document"),
                [(document["id"], json.dumps(document)) for document in documents],
            )
            cursor.execute(
                f"INSERT INTO {quote(SearchDocument._meta.db_table)} "
                "(entry_id, document, indexed_at) "
                f"SELECT entry_id, document, now() FROM {self._DOCUMENT_LOAD_TABLE} "
                "ON CONFLICT (entry_id) DO UPDATE SET document = EXCLUDED.document, "
                "indexed_at = EXCLUDED.indexed_at"
            )
            cursor.execute(f"TRUNCATE {self._DOCUMENT_LOAD_TABLE}")

    @staticmethod
    def _insert_arrays(
        connection, postings, prefixes, variants, vocabulary, *, variant_table=None
    ) -> None:
        """PostgreSQL's bulk path: postings, prefixes (and, in a bulk load, typo variants)
        go in with ``COPY … FROM STDIN`` (psycopg's copy); dictionary rows that may already
        exist with one ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING`` per
        table, instead of a ``VALUES`` list the ORM builds row by row."""
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            _copy_rows(cursor, quote(SearchTerm._meta.db_table), POSTING_COLUMNS, postings)
            _copy_rows(cursor, quote(SearchPrefix._meta.db_table), PREFIX_COLUMNS, prefixes)
            if variants and variant_table:
                _copy_rows(cursor, variant_table, ("variant", "term"), variants)
            elif variants:
                cursor.execute(
                    f"INSERT INTO {quote(TermVariant._meta.db_table)} (variant, term) "
                    "SELECT * FROM unnest(%s::varchar[], %s::varchar[]) "
                    "ON CONFLICT DO NOTHING",
                    [[v for v, _ in variants], [w for _, w in variants]],
                )
            if vocabulary:
                cursor.execute(
                    f"INSERT INTO {quote(SearchWord._meta.db_table)} (word, length) "
                    "SELECT w, char_length(w) FROM unnest(%s::varchar[]) AS w "
                    "ON CONFLICT DO NOTHING",
                    [vocabulary],
                )

    def _prune_words(self, alias: str, words: set[str] | None) -> None:
        """Drop dictionary rows of ``words`` (every word when ``None``) that no posting uses."""
        if words is not None and not words:
            return
        connection = connections[alias]
        with transaction.atomic(using=alias):
            if connection.vendor == "postgresql":
                # SHARE mode waits for writers of postings in flight and holds new ones
                # back, so no word is pruned while a posting that needs it is uncommitted.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"LOCK TABLE {connection.ops.quote_name(SearchTerm._meta.db_table)} "
                        "IN SHARE MODE"
                    )
            variants = TermVariant.objects.all()
            vocabulary = SearchWord.objects.all()
            if words is not None:
                variants = variants.filter(term__in=words)
                vocabulary = vocabulary.filter(word__in=words)
            variants.exclude(
                Exists(SearchTerm.objects.filter(field=Field.WORD, term=OuterRef("term")))
            ).delete()
            vocabulary.exclude(
                Exists(SearchTerm.objects.filter(field=Field.WORD, term=OuterRef("word")))
            ).delete()

    # ------------------------------------------------------------------ reading

    def search(self, query: str, *, limit: int, offset: int) -> tuple[list[int], int]:
        """See :meth:`SearchBackend.search`. One statement (:meth:`ranked_sql`) finds, ranks,
        pages and counts (a window count over the matches), plus one lookup in the typo
        dictionary when a query word has five letters or more, and a count when ``offset``
        is past the last match. A query of one short word (two to four characters, the
        first keystrokes of search-as-you-type) is answered from :class:`SearchPrefix`
        instead: the same results, without ranking every entry the prefix matches."""
        parsed = parse_query(query)
        if parsed.is_empty:
            return [], 0
        connection = connections[router.db_for_read(SearchTerm)]
        if self._is_short_prefix(parsed):
            return self._search_short_prefix(connection, parsed.prefix, limit=limit, offset=offset)
        sql, params = self.ranked_sql(parsed)
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset])
            rows = cursor.fetchall()
            if rows:
                return [row[0] for row in rows], rows[0][-1]
            if not offset:
                return [], 0
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS matches", params)
            return [], cursor.fetchone()[0]

    @staticmethod
    def _is_short_prefix(parsed: ParsedQuery) -> bool:
        word = parsed.prefix
        # "ma" or "@ma": one word, which is also the whole query (as a handle).
        return (
            word is not None
            and parsed.words == (word,)
            and parsed.whole in ((word,), (f"@{word}", word))
            and len(word) in SearchPrefix.PREFIX_LENGTHS
        )

    def _search_short_prefix(
        self, connection, word: str, *, limit: int, offset: int
    ) -> tuple[list[int], int]:
        """Search for one word of two to four characters (see :meth:`search`).

        Such a word is too short for typos, so an entry matches when one of its terms (any
        field) starts with it, and ranks by its best exact term: the directory handle,
        then a verified handle, then a word (:meth:`ranked_sql` ranks the same); every
        other match is a prefix. The exact matches are read from the term index and
        ranked; the prefix matches are the first rows of ``word``'s range of the
        :class:`SearchPrefix` index, which is in ranking order already, skipping the exact
        ones; the count is an index-only count of that range (every match is in it).
        """
        quote = connection.ops.quote_name
        terms = quote(SearchTerm._meta.db_table)
        prefixes = quote(SearchPrefix._meta.db_table)
        wanted = offset + limit
        sql = (
            "WITH exact AS (SELECT document_id, "
            f"MIN(CASE WHEN field = {Field.HANDLE.value} THEN {RANK_HANDLE} "
            f"WHEN field = {Field.VERIFIED_HANDLE.value} THEN {RANK_VERIFIED_HANDLE} "
            f"ELSE {RANK_EXACT} END) AS rank, "
            "MAX(CASE WHEN verified THEN 1 ELSE 0 END) AS verified, "
            "MIN(handle_canonical) AS handle_canonical "
            f"FROM {terms} WHERE field IN ({Field.HANDLE.value}, {Field.VERIFIED_HANDLE.value}, "
            f"{Field.WORD.value}) AND term = %s GROUP BY document_id) "
            "SELECT document_id FROM ("
            "SELECT * FROM (SELECT document_id, rank, verified, handle_canonical FROM exact "
            "ORDER BY rank, verified DESC, handle_canonical, document_id LIMIT %s) AS best "
            "UNION ALL "
            f"SELECT * FROM (SELECT p.document_id, {RANK_PREFIX} AS rank, "
            "CASE WHEN p.verified THEN 1 ELSE 0 END AS verified, p.handle_canonical "
            f"FROM {prefixes} p WHERE p.prefix = %s AND NOT EXISTS "
            "(SELECT 1 FROM exact e WHERE e.document_id = p.document_id) "
            "ORDER BY p.verified DESC, p.handle_canonical, p.document_id LIMIT %s) AS rest"
            ") AS hits ORDER BY rank, verified DESC, handle_canonical, document_id "
            "LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [word, wanted, word, wanted, limit, offset])
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(f"SELECT COUNT(*) FROM {prefixes} WHERE prefix = %s", [word])
            return ids, cursor.fetchone()[0]

    def _typo_terms(self, words: Iterable[str]) -> dict[str, dict[str, int]]:
        """For each query word long enough, the indexed words within its typo budget,
        each with its rank (``RANK_TYPO`` one edit away, ``RANK_TYPO2`` two). Words two
        edits away are looked for only when the query word is not itself indexed."""
        keys = {word: {word} | deletions(word) for word in words if typo_budget(word)}
        if not keys:
            return {}
        candidates = set(
            TermVariant.objects.filter(variant__in=set().union(*keys.values()))
            .values_list("term", flat=True)
            .distinct()
        )
        found: dict[str, dict[str, int]] = {}
        for word in keys:
            # A deletion of the query word is one edit from it by construction; it is looked
            # up directly, which also finds indexed words too short to have variants.
            ranks = dict.fromkeys(deletions(word), RANK_TYPO)
            pool = candidates
            # A word that is itself indexed (its own variants led back to it) is taken as
            # typed: looking for words two edits from it is the costliest lookup there is,
            # and its exact matches rank first anyway.
            if typo_budget(word) == 2 and word not in candidates:
                pool = pool | self._two_typo_candidates(word)
            for term in pool:
                distance = typo_distance(word, term)
                if distance is not None:
                    ranks[term] = RANK_TYPO if distance == 1 else RANK_TYPO2
            found[word] = ranks
        return found

    def _two_typo_candidates(self, word: str) -> set[str]:
        """Vocabulary words that may be two edits from ``word`` (nine characters or more).

        PostgreSQL: trigram similarity (``pg_trgm``'s ``%`` operator on a GIN index) of at
        least ``TRIGRAM_THRESHOLD``, within two characters of the word's length (a few
        two-edit matches fall under the threshold: see there). SQLite: every vocabulary
        word of such a length (an embedded directory is small). The caller confirms each
        with a real distance.
        """
        lengths = (len(word) - 2, len(word) + 2)
        connection = connections[router.db_for_read(SearchWord)]
        if connection.vendor != "postgresql":
            return set(
                SearchWord.objects.filter(length__range=lengths).values_list("word", flat=True)
            )
        table = connection.ops.quote_name(SearchWord._meta.db_table)
        with connection.cursor() as cursor:
            # The threshold of the ``%`` operator is a setting; no one else on the
            # connection uses the operator, so it is set for the session.
            cursor.execute(f"SET pg_trgm.similarity_threshold = {TRIGRAM_THRESHOLD}")
            cursor.execute(
                f"SELECT word FROM {table} WHERE word %% %s AND length BETWEEN %s AND %s",
                [word, *lengths],
            )
            return {row[0] for row in cursor.fetchall()}

    def _prefix_sql(self, prefix: str, column: str) -> tuple[str, list[str]]:
        """SQL (and its parameters) true when ``column`` starts with ``prefix``, in a form
        the term index answers as a range."""
        connection = connections[router.db_for_read(SearchTerm)]
        if connection.vendor == "postgresql":
            # LIKE on a varchar_pattern_ops index becomes a range scan, whatever the collation.
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return f"{column} LIKE %s", [f"{escaped}%"]
        # SQLite's LIKE folds ASCII case and cannot use a binary index; a range can.
        upper = _successor(prefix)
        if upper is None:
            return f"{column} >= %s", [prefix]
        return f"({column} >= %s AND {column} < %s)", [prefix, upper]

    @staticmethod
    def _in_sql(values: Iterable[str]) -> tuple[str, list[str]]:
        """``IN (%s, …)`` for ``values`` (sorted) and its parameters."""
        values = sorted(values)
        return f"IN ({', '.join(['%s'] * len(values))})", values

    def _word_sql(
        self, word: str, ranks: dict[str, int], *, prefix: bool, alias: str
    ) -> tuple[str, list, str, list]:
        """SQL for one query word over postings aliased ``alias``: ``(rank_sql, rank_params,
        where_sql, where_params)``. ``rank_sql`` is a CASE giving the word's rank for a
        posting (exact first, then prefix, one typo, two typos); ``where_sql`` selects the
        postings that can match it (its exact and typo terms; its prefix range)."""
        column = f"{alias}.term"
        by_rank: dict[int, list[str]] = {}
        for term, rank in ranks.items():
            by_rank.setdefault(rank, []).append(term)
        terms_sql, terms_params = self._in_sql(ranks)
        where_sql = f"{alias}.field = {Field.WORD.value} AND ({column} {terms_sql}"
        where_params = list(terms_params)
        cases = [f"WHEN {column} = %s THEN {RANK_EXACT}"]
        rank_params: list = [word]
        if prefix:
            prefix_sql, prefix_params = self._prefix_sql(word, column)
            cases.append(f"WHEN {prefix_sql} THEN {RANK_PREFIX}")
            rank_params += prefix_params
            where_sql += f" OR {prefix_sql}"
            where_params += prefix_params
        for rank in (RANK_TYPO, RANK_TYPO2):
            if by_rank.get(rank):
                in_sql, in_params = self._in_sql(by_rank[rank])
                cases.append(f"WHEN {column} {in_sql} THEN {rank}")
                rank_params += in_params
        return f"CASE {' '.join(cases)} END", rank_params, where_sql + ")", where_params

    def ranked_sql(self, parsed: ParsedQuery) -> tuple[str, list]:
        """The statement that finds and ranks the documents matching ``parsed``.

        Input: a non-empty :class:`ParsedQuery`. Output: ``(sql, params)`` for the default
        database (SQLite or PostgreSQL), selecting ``(document_id, score, verified,
        handle_canonical, total)`` rows best first (``LIMIT``/``OFFSET`` may be appended);
        ``score`` is the rank of the whole query as a handle, or the sum of the per-word
        ranks (see :mod:`search.text`), whichever is better.

        How it stays fast on a large index: the term index carries every column a search
        reads, so PostgreSQL answers from the index alone. The longest query word (the
        rarest, as a rule) is read first, one index range per kind of match, and reduced to
        one row per document with its best rank. Every other word is then joined to those
        documents posting by posting: PostgreSQL looks a word up per document in the
        per-document index when the first word left few documents, or reads the word's
        own range and joins it when that is cheaper, whichever its statistics say; a common
        word ("de", "b") or a short prefix ("ma", a tenth of the directory) is so never
        read whole for a rare name. Handles matched whole (or, from two characters, by
        prefix) are found by the same index and merged with the word matches.
        """
        typo_terms = self._typo_terms(parsed.words)
        params: list = []
        ctes: list[str] = []

        def reduce(name: str, branches: list[tuple[str, str, list]], where: str) -> None:
            # One row per document: its best rank for this part of the query.
            union = " UNION ALL ".join(
                f"SELECT document_id, verified, handle_canonical, {rank_sql} AS rank "
                f"FROM {self._table} t WHERE {where} AND {condition}"
                for rank_sql, condition, _ in branches
            )
            for _, _, branch_params in branches:
                params.extend(branch_params)
            ctes.append(
                f"{name} AS (SELECT document_id, MIN(rank) AS rank, "
                "MAX(CASE WHEN verified THEN 1 ELSE 0 END) AS verified, "
                f"MIN(handle_canonical) AS handle_canonical FROM ({union}) AS {name}_hits "
                "GROUP BY document_id)"
            )

        whole = [key for key in parsed.whole if key]
        in_sql, in_params = self._in_sql(whole)
        branches = [
            (
                f"CASE WHEN field = {Field.HANDLE.value} THEN {RANK_HANDLE} "
                f"ELSE {RANK_VERIFIED_HANDLE} END",
                f"term {in_sql}",
                in_params,
            )
        ]
        for key in sorted(key for key in whole if len(key) >= PREFIX_MIN_LENGTH):
            # A handle the whole query starts ranks as if every word matched by prefix.
            prefix_sql, prefix_params = self._prefix_sql(key, "term")
            branches.append(
                (str(RANK_PREFIX * max(1, len(parsed.words))), prefix_sql, prefix_params)
            )
        handle_fields = f"field IN ({Field.HANDLE.value}, {Field.VERIFIED_HANDLE.value})"
        reduce("whole", branches, handle_fields)
        parts = ["SELECT document_id, rank, verified, handle_canonical FROM whole"]

        if parsed.words:
            first = max(parsed.words, key=len)
            ranks = {**typo_terms.get(first, {}), first: RANK_EXACT}
            # Its exact and typo terms, then its prefix range: each one index range, so
            # each branch is an index-only scan (an OR of both would read the table).
            rank_sql, rank_params, _, _ = self._word_sql(first, ranks, prefix=False, alias="t")
            terms_sql, terms_params = self._in_sql(ranks)
            branches = [(rank_sql, f"term {terms_sql}", [*rank_params, *terms_params])]
            if first == parsed.prefix:
                prefix_sql, prefix_params = self._prefix_sql(first, "term")
                branches.append(
                    (
                        f"CASE WHEN term = %s THEN {RANK_EXACT} ELSE {RANK_PREFIX} END",
                        prefix_sql,
                        [first, *prefix_params],
                    )
                )
            reduce("first_word", branches, f"field = {Field.WORD.value}")
            scores = ["c.rank"]
            joins: list[str] = []
            rank_params = []
            join_params: list = []
            for index, word in enumerate(w for w in parsed.words if w != first):
                ranks = {**typo_terms.get(word, {}), word: RANK_EXACT}
                rank_sql, word_rank_params, where_sql, where_params = self._word_sql(
                    word, ranks, prefix=word == parsed.prefix, alias=f"t{index}"
                )
                scores.append(f"MIN({rank_sql})")
                rank_params += word_rank_params
                joins.append(
                    f" JOIN {self._table} t{index} ON t{index}.document_id = c.document_id "
                    f"AND {where_sql}"
                )
                join_params += where_params
            parts.append(
                f"SELECT c.document_id, {' + '.join(scores)}, MIN(c.verified), "
                f"MIN(c.handle_canonical) FROM first_word c{''.join(joins)} "
                "GROUP BY c.document_id, c.rank"
            )
            params += rank_params + join_params

        sql = (
            f"WITH {', '.join(ctes)} "
            "SELECT document_id, MIN(rank) AS score, MAX(verified) AS verified, "
            "MIN(handle_canonical) AS handle_canonical, COUNT(*) OVER () AS total "
            f"FROM ({' UNION ALL '.join(parts)}) AS hits "
            "GROUP BY document_id ORDER BY score, verified DESC, handle_canonical, document_id"
        )
        return sql, params

    @property
    def _table(self) -> str:
        connection = connections[router.db_for_read(SearchTerm)]
        return connection.ops.quote_name(SearchTerm._meta.db_table)

    # ------------------------------------------------------------------ operations

    def health(self) -> BackendHealth:
        """See :meth:`SearchBackend.health`."""
        try:
            documents = SearchDocument.objects.count()
        except DatabaseError as exc:
            return BackendHealth(False, self.name, None, f"the database did not answer: {exc}")
        return BackendHealth(True, self.name, documents, "index tables reachable")

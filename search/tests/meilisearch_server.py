"""A small HTTP server on loopback that answers like Meilisearch and records what it is sent.

No Meilisearch binary is needed for the tests that check *what the backend sends*: index
creation, settings, documents and their primary key, deletions, the atomic swap. This server
implements those routes of Meilisearch's documented API (https://www.meilisearch.com/docs/
reference/api) closely enough for the official client: every write answers ``202`` with a
summarized task, ``GET /tasks/{uid}`` reports it ``succeeded`` (or ``failed`` when asked to),
and the documents are kept per index so a swap really exchanges them. Its search is a plain
word-prefix match, enough to check the mapping of hits to entry ids; ranking and typo
tolerance are Meilisearch's own and are checked by the contract suite against a real server.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class FakeIndex:
    primary_key: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    documents: dict[Any, dict[str, Any]] = field(default_factory=dict)


class FakeMeilisearch:
    """State and request log of the fake server; ``url`` once started."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.indexes: dict[str, FakeIndex] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.fail_tasks = False
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # --------------------------------------------------------------- lifecycle

    def start(self) -> FakeMeilisearch:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        """Recorded requests with ``method`` whose path matches the regex ``pattern``."""
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    # --------------------------------------------------------------- tasks

    def task(self, kind: str, index_uid: str | None, apply=None) -> dict[str, Any]:
        uid = len(self.tasks)
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        failed = self.fail_tasks
        if apply is not None and not failed:
            apply()
        self.tasks[uid] = {
            "uid": uid,
            "indexUid": index_uid,
            "status": "failed" if failed else "succeeded",
            "type": kind,
            "details": {},
            "error": {"message": "refused by the test", "code": "internal", "type": "internal"}
            if failed
            else None,
            "duration": "PT0.001S",
            "enqueuedAt": now,
            "startedAt": now,
            "finishedAt": now,
        }
        return {
            "taskUid": uid,
            "indexUid": index_uid,
            "status": "enqueued",
            "type": kind,
            "enqueuedAt": now,
        }


def _not_found(uid: str) -> tuple[int, dict[str, Any]]:
    return 404, {
        "message": f"Index `{uid}` not found.",
        "code": "index_not_found",
        "type": "invalid_request",
        "link": "https://docs.meilisearch.com/errors#index_not_found",
    }


def _matches(document: dict[str, Any], words: list[str]) -> bool:
    text = " ".join(
        str(value) for key, value in document.items() if key != "id" and not isinstance(value, bool)
    ).lower()
    tokens = re.findall(r"\w+", text)
    # As Meilisearch: only the last query word matches as a prefix.
    return all(
        any(token == word or (i == len(words) - 1 and token.startswith(word)) for token in tokens)
        for i, word in enumerate(words)
    )


class _Handler(BaseHTTPRequestHandler):
    fake: FakeMeilisearch
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        body = self._body()
        fake = self.fake
        with fake.lock:
            fake.requests.append(Recorded(method, parts.path, parse_qs(parts.query), body))
            status, payload = self._route(method, parts.path, parse_qs(parts.query), body)
        self._answer(status, payload)

    def _route(self, method, path, query, body) -> tuple[int, Any]:  # noqa: C901 - a router
        fake = self.fake
        segments = [s for s in path.split("/") if s]
        if path == "/health" and method == "GET":
            return 200, {"status": "available"}
        if segments[:1] == ["tasks"] and len(segments) == 2 and method == "GET":
            return 200, fake.tasks[int(segments[1])]
        if path == "/swap-indexes" and method == "POST":
            pairs = [pair["indexes"] for pair in body]

            def swap() -> None:
                for a, b in pairs:
                    fake.indexes[a], fake.indexes[b] = fake.indexes[b], fake.indexes[a]

            missing = [uid for pair in pairs for uid in pair if uid not in fake.indexes]
            if missing:
                return _not_found(missing[0])
            return 202, fake.task("indexSwap", None, swap)
        if path == "/indexes" and method == "POST":
            uid = body["uid"]

            def create() -> None:
                fake.indexes.setdefault(uid, FakeIndex(primary_key=body.get("primaryKey")))

            return 202, fake.task("indexCreation", uid, create)
        if segments[:1] != ["indexes"] or len(segments) < 2:
            return 404, {"message": "not found", "code": "not_found", "type": "invalid_request"}
        uid = segments[1]
        index = fake.indexes.get(uid)
        rest = segments[2:]
        if not rest:
            if method == "GET":
                if index is None:
                    return _not_found(uid)
                return 200, {
                    "uid": uid,
                    "primaryKey": index.primary_key,
                    "createdAt": "2026-01-01T00:00:00.000000Z",
                    "updatedAt": "2026-01-01T00:00:00.000000Z",
                }
            if method == "DELETE":
                return 202, fake.task("indexDeletion", uid, lambda: fake.indexes.pop(uid, None))
        if rest == ["settings"] and method == "PATCH":
            if index is None:
                return _not_found(uid)
            return 202, fake.task("settingsUpdate", uid, lambda: index.settings.update(body))
        if rest == ["documents"] and method == "POST":

            def add() -> None:
                target = fake.indexes.setdefault(uid, FakeIndex())
                key = target.primary_key or query.get("primaryKey", ["id"])[0]
                target.primary_key = key
                for document in body:
                    target.documents[document[key]] = document

            return 202, fake.task("documentAdditionOrUpdate", uid, add)
        if rest[:1] == ["documents"] and len(rest) == 2 and method == "DELETE":
            key = rest[1]

            def delete() -> None:
                if index is not None:
                    for document_id in list(index.documents):
                        if str(document_id) == key:
                            del index.documents[document_id]

            return 202, fake.task("documentDeletion", uid, delete)
        if index is None:
            return _not_found(uid)
        if rest == ["documents", "fetch"] and method == "POST":
            documents = sorted(index.documents.values(), key=lambda d: str(d["id"]))
            offset, limit = body.get("offset", 0), body.get("limit", 20)
            return 200, {
                "results": documents[offset : offset + limit],
                "offset": offset,
                "limit": limit,
                "total": len(documents),
            }
        if rest == ["stats"] and method == "GET":
            return 200, {
                "numberOfDocuments": len(index.documents),
                "isIndexing": False,
                "fieldDistribution": {},
            }
        if rest == ["search"] and method == "POST":
            words = re.findall(r"\w+", (body.get("q") or "").lower())
            hits = [d for d in index.documents.values() if _matches(d, words)]
            hits.sort(key=lambda d: d["id"])
            offset, limit = body.get("offset", 0), body.get("limit", 20)
            fields = body.get("attributesToRetrieve") or ["*"]
            page = [
                d if fields == ["*"] else {k: v for k, v in d.items() if k in fields}
                for d in hits[offset : offset + limit]
            ]
            return 200, {
                "hits": page,
                "query": body.get("q"),
                "processingTimeMs": 0,
                "limit": limit,
                "offset": offset,
                "estimatedTotalHits": len(hits),
            }
        return 404, {"message": "not found", "code": "not_found", "type": "invalid_request"}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

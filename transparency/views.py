"""The log's public HTTP interface: its description, checkpoints, proofs and tiles."""

from __future__ import annotations

import base64
import re

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from directory.exceptions import PROBLEM_CONTENT_TYPE, problem
from transparency import selectors, services
from transparency.keys import log_signer
from transparency.selectors import TILE_WIDTH, latest_checkpoint_note

#: Full tiles and bundles never change (c2sp.org/tlog-tiles: "immutable").
IMMUTABLE = "public, max-age=31536000, immutable"
#: A partial tile's bytes never change either, but it may be deleted once the full one exists.
PARTIAL = "public, max-age=3600"
_N = re.compile(r"(?:x[0-9]{3}/)*[0-9]{3}")
#: A checkpoint with cosignatures is a few hundred bytes; refuse anything much larger.
MAX_COSIGNED_CHECKPOINT = 16384


def _not_configured() -> JsonResponse:
    body = problem(
        503,
        _("The transparency log is not available"),
        _("This server has no transparency log signing key."),
        "log-unavailable",
    )
    return JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE)


@require_safe
def log_index(request: HttpRequest) -> HttpResponse:
    """``GET /log/``: JSON naming the log's ``origin`` and its ``verifier_key``.

    The verifier key is the c2sp.org/signed-note key that signs every checkpoint; a calling
    app pins it. 503 (problem details) when the log has no signing key.
    """
    signer = log_signer()
    if signer is None:
        return _not_configured()
    return JsonResponse({"origin": signer.name, "verifier_key": signer.verifier.key})


@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    """``GET /log/checkpoint``: the latest signed checkpoint (c2sp.org/tlog-checkpoint).

    Served as text/plain, never cached, as c2sp.org/tlog-tiles asks. 503 (problem details)
    when the log has no signing key.
    """
    note = latest_checkpoint_note()
    if note is None:
        return _not_configured()
    response = HttpResponse(note, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def _bad_request(detail: str) -> JsonResponse:
    body = problem(400, _("Bad request"), detail, "bad-request")
    return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)


def _size_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", value):
        return None
    return int(value)


@require_safe
def consistency(request: HttpRequest) -> HttpResponse:
    """``GET /log/consistency?from=N&to=M``: the RFC 9162 §2.1.4 consistency proof.

    Answers JSON ``{"from": N, "to": M, "proof": [base64 hash, …]}``: the proof that the
    tree of N leaves is a prefix of the tree of M. 400 (problem details) unless
    ``0 < N <= M <= the tree size``; 503 without a signing key.
    """
    if log_signer() is None:
        return _not_configured()
    old, new = _size_param(request, "from"), _size_param(request, "to")
    if old is None or new is None:
        return _bad_request(_("Give from and to as tree sizes in decimal."))
    size = selectors.tree_size()
    if not 0 < old <= new <= size:
        return _bad_request(
            _("Consistency proofs are between tree sizes 0 < from <= to <= %(size)d.")
            % {"size": size}
        )
    proof = selectors.consistency_proof(old, new)
    body = {"from": old, "to": new, "proof": [base64.b64encode(h).decode() for h in proof]}
    return JsonResponse(body)


def _tile_index(path: str) -> int:
    """The tile index N from its path form (``x001/x234/067``); 404 unless canonical."""
    if not _N.fullmatch(path):
        raise Http404
    index = int(path.replace("x", "").replace("/", ""))
    if _encode_index(index) != path:
        raise Http404
    return index


def _encode_index(index: int) -> str:
    parts = []
    while True:
        parts.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    return "/".join(["x" + p for p in reversed(parts[1:])] + [parts[0]])


def _tile_response(data: bytes, partial: bool) -> HttpResponse:
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = PARTIAL if partial else IMMUTABLE
    return response


@require_safe
def tile(request: HttpRequest, level: str, n: str, width: str | None = None) -> HttpResponse:
    """``GET /log/tile/<L>/<N>[.p/<W>]``: a Merkle tile (c2sp.org/tlog-tiles).

    404 for a tile the tree does not hold yet (or a path not in canonical form).
    """
    if log_signer() is None:
        return _not_configured()
    lvl = int(level)
    if lvl > 63:
        raise Http404
    w = TILE_WIDTH if width is None else int(width)
    if w > 255 and width is not None:
        raise Http404
    try:
        data = selectors.tile(lvl, _tile_index(n), w)
    except LookupError:
        raise Http404 from None
    return _tile_response(data, width is not None)


@require_safe
def entries(request: HttpRequest, n: str, width: str | None = None) -> HttpResponse:
    """``GET /log/tile/entries/<N>[.p/<W>]``: an entry bundle (c2sp.org/tlog-tiles).

    Each binding record prefixed by its length (big-endian uint16). 404 for a bundle the
    tree does not hold yet.
    """
    if log_signer() is None:
        return _not_configured()
    w = TILE_WIDTH if width is None else int(width)
    if w > 255 and width is not None:
        raise Http404
    try:
        data = selectors.entry_bundle(_tile_index(n), w)
    except LookupError:
        raise Http404 from None
    return _tile_response(data, width is not None)


@csrf_exempt
@require_POST
def cosignature(request: HttpRequest) -> HttpResponse:
    """``POST /log/cosignature``: a witness hands back a checkpoint it cosigned.

    The body (text/plain) is a checkpoint this log published, with the witness's
    c2sp.org/tlog-cosignature lines appended; cosignatures by the witnesses of
    TRANSPARENCY_WITNESSES are verified and stored, and served from then on with the
    checkpoint and in proofs. Answers the checkpoint with every stored cosignature
    (text/plain); 400 (problem details) when the body is refused, 503 without a
    signing key. Anyone may submit: only valid cosignatures by configured keys are kept.
    """
    if log_signer() is None:
        return _not_configured()
    if len(request.body) > MAX_COSIGNED_CHECKPOINT:
        return _bad_request(_("The checkpoint is too large."))
    try:
        stored = services.cosignature_add(signed_checkpoint=request.body.decode("utf-8"))
    except UnicodeDecodeError:
        return _bad_request(_("The checkpoint is not UTF-8 text."))
    except services.CosignatureRefused as exc:
        return _bad_request(str(exc))
    note = selectors.checkpoint_with_cosignatures(stored[0].checkpoint)
    return HttpResponse(note, content_type="text/plain; charset=utf-8")

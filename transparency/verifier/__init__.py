"""The standalone verifier of Worldbook's transparency log.

This package is the directory's own verifiable core, written by hand so that a calling app
can read every line it trusts and vendor the package as it is: it imports only the Python
standard library and ``cryptography`` (for Ed25519), never Django or the rest of Worldbook.
Each module follows one specification exactly:

- :mod:`.tlog` — Merkle tree hashing, inclusion and consistency proofs (RFC 6962, RFC 9162
  §2.1);
- :mod:`.note` — signed notes and their keys (c2sp.org/signed-note, Ed25519);
- :mod:`.checkpoint` — checkpoints (c2sp.org/tlog-checkpoint);
- :mod:`.proof` — proof bundles (c2sp.org/tlog-proof@v1);
- :mod:`.cosignature` — witness cosignatures (c2sp.org/tlog-cosignature, Ed25519) and
  the "k of n witnesses" policy;
- :mod:`.binding` — Worldbook's log entries: binding records and their commitments;
- :mod:`.cli` — the ``worldbook-verify`` console script.
"""

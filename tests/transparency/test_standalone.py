"""The verifier can be vendored: copied alone, it works without Django or Worldbook."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import transparency.verifier

CODE = """
import sys
sys.path.insert(0, ".")  # only the copy: -I leaves out the project and the environment
from wbverify import binding, checkpoint, cli, cosignature, note, proof, tlog
skey, vkey = note.generate_key("example.com/log")
root = tlog.tree_hash_of_leaves([tlog.leaf_hash(b"a"), tlog.leaf_hash(b"b")])
signed = checkpoint.sign_checkpoint(
    checkpoint.Checkpoint("example.com/log", 2, root), note.Signer.from_key(skey)
)
opened, _ = checkpoint.open_checkpoint(signed, note.Verifier.from_key(vkey))
tlog.verify_inclusion(1, 2, tlog.leaf_hash(b"b"), [tlog.leaf_hash(b"a")], opened.root_hash)
project = {"django", "directory", "transparency"}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in project)
print(loaded)
"""


def test_a_copy_of_the_verifier_runs_without_django(tmp_path):
    shutil.copytree(Path(transparency.verifier.__file__).parent, tmp_path / "wbverify")
    result = subprocess.run(
        [sys.executable, "-I", "-c", CODE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

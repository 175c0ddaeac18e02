"""Outside judges of the transparency log: the Go reference code (github.com/transparency-dev/merkle, the checksum
database's golang.org/x/mod/sumdb/{note,tlog}, and transparency-dev/formats for C2SP checkpoints and cosignatures),
fetched from the Go module proxy into a temporary module, verifies the tree heads, inclusion and consistency proofs
and signatures of a real store, refuses altered ones, and hands back its own test vectors, which our tree matches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.priorities.application import PrioritiesApplication
from shared.audit.checkpoint import Cosigner, trusted_public_key, verifier_key
from shared.audit.standalone import leaf_hash, split_note
from shared.audit.tlog import MerkleTree
from shared.contracts import Actor
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, settings_for

pytestmark = pytest.mark.integration

JUDGE = Path(__file__).resolve().parents[1] / "judges" / "audit_tlog" / "main.go"
GO_MOD = """module judge

go 1.25

require (
\tgithub.com/transparency-dev/formats v0.1.1
\tgithub.com/transparency-dev/merkle v0.0.2
\tgolang.org/x/mod v0.43.0
)
"""
OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "corr-judge")


def _go_env() -> dict[str, str]:
    cache = Path(os.environ.get("PARTNERSHIP_CACHE_DIR", Path.home() / ".cache" / "partnership")) / "go"
    return {**os.environ, "GOPATH": str(cache), "GOMODCACHE": str(cache / "mod"), "GOCACHE": str(cache / "build"),
            "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}


def _judge(tmp_path: Path, cases: dict[str, Any]) -> dict[str, Any]:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    assert go, "Go is needed for the outside judges (on the machine image; the Go module proxy serves the modules)"
    module = tmp_path / "judge"
    module.mkdir()
    shutil.copy(JUDGE, module / "main.go")
    (module / "go.mod").write_text(GO_MOD)
    env = _go_env()
    subprocess.run([go, "mod", "tidy"], cwd=module, env=env, check=True, capture_output=True, timeout=600)
    done = subprocess.run([go, "run", "."], cwd=module, env=env, input=json.dumps(cases), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_the_go_reference_code_verifies_our_tree_heads_proofs_and_signatures(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path / "data", audit_signing_key="3c" * 32, audit_checkpoint_every=0)
    app = PrioritiesApplication(settings)
    sizes = []
    adopted = board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board")
    for n in range(23):
        app.add_objective(OFFICER, title=f"objective {n}", level=StrategyLevel.SCS, strategy="scs",
                          decision=adopted)
        if n + 1 in (1, 5, 8, 16, 23):
            written = app.checkpointer.checkpoint()
            assert written is not None
            sizes.append(written.tree_size)
    log = app.checkpointer.log
    heads = log.all()
    tree = log.tree()
    app.close()
    witnesses = [Cosigner(bytes([n]) * 32, f"witness-{n}.invalid") for n in (1, 2)]
    inclusions: list[dict[str, Any]] = []
    consistencies: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    for size in sizes:
        root = tree.root(size).hex()
        for index in range(size):
            proof = [p.hex() for p in tree.inclusion_proof(index, size)]
            inclusions.append({"index": index, "size": size, "leaf": tree.leaf(index).hex(), "proof": proof,
                               "root": root, "expect": True})
        other = size // 2
        inclusions.append({"index": other, "size": size, "leaf": leaf_hash(b"not in the log").hex(),
                           "proof": [p.hex() for p in tree.inclusion_proof(other, size)], "root": root,
                           "expect": False})
        for first in sizes:
            if first < size:
                proof = [p.hex() for p in tree.consistency_proof(first, size)]
                consistencies.append({"first": first, "second": size, "first_root": tree.root(first).hex(),
                                      "second_root": root, "proof": proof, "expect": True})
                consistencies.append({"first": first, "second": size, "first_root": leaf_hash(b"fork").hex(),
                                      "second_root": root, "proof": proof, "expect": False})
    public = trusted_public_key(settings)
    assert public is not None
    log_key = str(verifier_key(public, log.origin))
    for stored in heads:
        text = split_note(stored.note)[0]
        cosigned = stored.note + "".join(w.cosign(text).line for w in witnesses)
        checkpoints.append({"note": cosigned, "origin": log.origin, "log_key": log_key,
                            "witness_keys": [str(w.verifier) for w in witnesses], "expect": True})
    checkpoints.append({"note": heads[-1].note.replace("\n23\n", "\n24\n"), "origin": log.origin, "log_key": log_key,
                        "witness_keys": [], "expect": False})

    answer = _judge(tmp_path, {"inclusions": inclusions, "consistencies": consistencies, "checkpoints": checkpoints})

    assert answer["failures"] == []
    assert answer["checked"] == 2 * (len(inclusions) + len(consistencies)) + len(checkpoints)
    assert [(c["size"], c["root"], c["signatures"]) for c in answer["checkpoints"]] == [
        (size, tree.root(size).hex(), 3) for size in sizes]
    # Their test vectors, our tree: the same roots and the same proofs, byte for byte.
    reference = answer["reference"]
    ours = MerkleTree(leaf_hash(bytes.fromhex(x)) for x in reference["leaf_inputs"])
    assert {size: ours.root(int(size)).hex() for size in reference["roots"]} == reference["roots"]
    assert all([p.hex() for p in ours.inclusion_proof(c["index"], c["size"])] == c["proof"]
               for c in reference["inclusions"])
    assert all([p.hex() for p in ours.consistency_proof(c["first"], c["second"])] == c["proof"]
               for c in reference["consistencies"])


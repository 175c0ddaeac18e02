"""The standalone audit verifier: checks an export bundle against the published keys, with no access to our databases.

One file, no imports beyond Python's standard library and ``cryptography``: copy it anywhere and run

    python standalone.py BUNDLE.jsonl --public-key VKEY [--public-key VKEY ...] [--witness-key VKEY ...] [--witnesses K]

It names the first event that does not verify and exits 1, or prints what it verified and exits 0. docs/audit.md is
its specification (the hash chain, the RFC 9162 Merkle tree, C2SP signed notes, checkpoints and cosignatures, the
bundle). The service's own code uses the primitives below (one definition of each rule); the bundle check is here.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import struct
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = bytes(32)
HEADER = b"#audit1 "
HEADER_LENGTH = len(HEADER) + 64 + 1 + 64 + 1
ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
BUNDLE_FORMAT = "partnership-audit-bundle/1"

# -- RFC 9162 §2.1: the Merkle tree hash ------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def empty_root() -> bytes:
    return hashlib.sha256(b"").digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes: pair level by level, promoting an odd last node unchanged (equal to RFC 9162's split)."""
    if not leaf_hashes:
        return empty_root()
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show the leaf hash ``leaf`` at ``index`` in the tree of ``size``?"""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size ``second`` an append-only extension of the tree of size ``first``?"""
    if first > second or first < 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a complete subtree, its root is implied
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# -- The event hash chain and the tree's leaves -----------------------------------------------------------------------


def event_hash(prev: bytes, aggregate_id: str, version: int, topic: str, payload: bytes) -> bytes:
    """SHA-256(prev || aggregate id LF version LF topic LF payload): the hash a stored event carries."""
    return hashlib.sha256(prev + f"{aggregate_id}\n{version}\n{topic}\n".encode() + payload).digest()


def leaf_data(aggregate_id: str, version: int, own_hash: bytes) -> bytes:
    """A log entry, the data of one leaf: aggregate id LF version LF the event's 32-byte hash."""
    return f"{aggregate_id}\n{version}\n".encode() + own_hash


def split_state(state: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(prev, stored own hash, payload) of a stored state, or None when it carries no well-formed chain header."""
    if not state.startswith(HEADER) or len(state) < HEADER_LENGTH or state[HEADER_LENGTH - 1] != 0x0A \
            or state[72] != 0x20:
        return None
    try:
        return bytes.fromhex(state[8:72].decode()), bytes.fromhex(state[73:137].decode()), state[HEADER_LENGTH:]
    except (UnicodeDecodeError, ValueError):
        return None


# -- C2SP signed notes (golang.org/x/mod/sumdb/note), checkpoints and cosignatures ---------------------------------


def key_hash(name: str, key_with_alg: bytes) -> bytes:
    """The 4-byte key id of a note signature line: SHA-256(name LF alg-byte || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + key_with_alg).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A note verifier key ``name+hash+base64(alg || key)``: Ed25519 (0x01) or Ed25519 cosignature/v1 (0x04)."""

    name: str
    alg: int
    public: bytes

    @property
    def id(self) -> bytes:
        return key_hash(self.name, bytes([self.alg]) + self.public)

    def __str__(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([self.alg]) + self.public).decode()}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        name, hash_hex, key64 = ([*text.strip().split("+", 2), "", ""])[:3]  # base64 may hold "+" too
        try:
            raw = base64.b64decode(key64, validate=True)
        except ValueError:
            raise ValueError(f"not a note verifier key: {text!r}") from None
        if not name or len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise ValueError(f"not an Ed25519 note verifier key: {text!r}")
        key = cls(name, raw[0], raw[1:])
        if key.id.hex() != hash_hex.lower():
            raise ValueError(f"the key hash of {text!r} does not match its name and key")
        return key


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: the signer's name, key id and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"\u2014 {self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


def split_note(note: str) -> tuple[str, list[Signature]]:
    """The text (ending in a line feed) and signature lines of a signed note; ValueError if malformed."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not text:
        raise ValueError("a signed note is its text, a blank line and signature lines")
    text += "\n"
    lines = signatures.split("\n")
    if lines[-1] != "":
        raise ValueError("a signed note ends with a line feed")
    parsed = []
    for line in lines[:-1]:
        if not line.startswith("\u2014 "):
            raise ValueError(f"not a signature line: {line!r}")
        name, _, sig64 = line[2:].rpartition(" ")
        try:
            raw = base64.b64decode(sig64, validate=True)
        except ValueError:
            raise ValueError(f"not a signature line: {line!r}") from None
        if not name or len(raw) < 5:
            raise ValueError(f"not a signature line: {line!r}")
        parsed.append(Signature(name, raw[:4], raw[4:]))
    return text, parsed


@dataclass(frozen=True)
class TreeHead:
    """The body of a C2SP tlog-checkpoint: origin, tree size, root hash (and any extension lines)."""

    origin: str
    size: int
    root: bytes
    text: str

    @classmethod
    def parse(cls, text: str) -> TreeHead:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0]:
            raise ValueError("a checkpoint is an origin line, a tree size line and a root hash line")
        if not lines[1].isdigit() or (lines[1] != "0" and lines[1].startswith("0")):
            raise ValueError(f"the tree size line {lines[1]!r} is not a decimal number")
        root = base64.b64decode(lines[2], validate=True)
        if len(root) != 32:
            raise ValueError("the root hash line is not a base64 SHA-256 hash")
        return cls(lines[0], int(lines[1]), root, text)

    def root_hash_b64(self) -> str:
        return base64.b64encode(self.root).decode()


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def verify_note_signature(text: str, signature: Signature, key: VerifierKey) -> bool:
    """Ed25519 over the note text (key 0x01)."""
    if key.alg != ALG_ED25519 or signature.name != key.name or signature.key_id != key.id:
        return False
    return _ed25519_valid(key.public, signature.signature, text.encode())


def cosigned_message(timestamp: int, text: str) -> bytes:
    """C2SP tlog-cosignature/v1: what a witness signs."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def verify_cosignature(text: str, signature: Signature, key: VerifierKey) -> int | None:
    """The cosignature's timestamp when it is a valid cosignature/v1 (key 0x04) of the note text, else None."""
    if key.alg != ALG_COSIGNATURE_V1 or signature.name != key.name or signature.key_id != key.id \
            or len(signature.signature) != 8 + 64:
        return None
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    if not _ed25519_valid(key.public, signature.signature[8:], cosigned_message(timestamp, text)):
        return None
    return int(timestamp)


def _ed25519_valid(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def open_checkpoint(note: str, keys: Iterable[VerifierKey]) -> TreeHead:
    """The tree head of a note signed by one of ``keys`` under its origin's name; ValueError otherwise."""
    text, signatures = split_note(note)
    head = TreeHead.parse(text)
    for key in keys:
        if key.name == head.origin and any(verify_note_signature(text, s, key) for s in signatures):
            return head
    raise ValueError(f"the checkpoint of {head.origin} at size {head.size} carries no valid signature by the "
                     "published key")


# -- The export bundle ----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the bundle check found: per log, what verified; and the problems, first one first."""

    verified: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _lines(path: str) -> Iterator[dict[str, object]]:
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"line {number} is not JSON: {error}") from None
                if not isinstance(record, dict):
                    raise ValueError(f"line {number} is not a JSON object")
                yield record


def _b64list(values: object) -> list[bytes]:
    if not isinstance(values, list):
        raise ValueError("a proof is a list of base64 hashes")
    return [base64.b64decode(str(v), validate=True) for v in values]


def verify_bundle(path: str, public_keys: Sequence[VerifierKey], witness_keys: Sequence[VerifierKey] = (),
                  witnesses: int = 0) -> Outcome:
    """Check every event, tree head, consistency proof and cosignature in the bundle (docs/audit.md)."""
    outcome = Outcome()
    logs: dict[str, dict[str, object]] = {}
    heads: dict[str, list[dict[str, object]]] = {}
    events: dict[str, list[dict[str, object]]] = {}
    header_seen = False
    for record in _lines(path):
        kind = record.get("kind")
        if kind == "bundle":
            header_seen = record.get("format") == BUNDLE_FORMAT
        elif kind == "log":
            logs[str(record["origin"])] = record
        elif kind == "checkpoint":
            heads.setdefault(str(record["origin"]), []).append(record)
        elif kind == "event":
            events.setdefault(str(record["origin"]), []).append(record)
    if not header_seen:
        outcome.problems.append(f"not an export bundle of format {BUNDLE_FORMAT}")
        return outcome
    for origin, log in logs.items():
        _verify_log(origin, log, heads.get(origin, []), events.get(origin, []), public_keys, witness_keys,
                    witnesses, outcome)
    return outcome


def _verify_log(origin: str, log: dict[str, object], head_records: list[dict[str, object]],
                event_records: list[dict[str, object]], public_keys: Sequence[VerifierKey],
                witness_keys: Sequence[VerifierKey], witnesses: int, outcome: Outcome) -> None:
    problems = outcome.problems
    # 1. Tree heads: signed by the published key, each consistent with the one before.
    opened: list[TreeHead] = []
    witnessed: TreeHead | None = None
    for record in sorted(head_records, key=lambda r: int(str(r["size"]))):
        try:
            head = open_checkpoint(str(record["note"]), public_keys)
        except ValueError as error:
            problems.append(f"{origin}: {error}")
            return
        if opened:
            try:
                proof = _b64list(record.get("consistency_proof", []))
            except ValueError:
                proof = []
            if not verify_consistency(opened[-1].size, head.size, opened[-1].root, head.root, proof):
                problems.append(f"{origin}: the tree head of size {head.size} is not consistent with the one of "
                                f"size {opened[-1].size} (the log was rewritten between them)")
                return
        opened.append(head)
        cosigners = set()
        for line in record.get("cosignatures", []) or []:  # type: ignore[attr-defined]
            try:
                _, (signature,) = split_note(head.text + "\n" + str(line).rstrip("\n") + "\n")
            except ValueError:
                continue
            for key in witness_keys:
                if verify_cosignature(head.text, signature, key) is not None:
                    cosigners.add(key.name)
        if witnesses and len(cosigners) >= witnesses:
            witnessed = head
    if not opened:
        problems.append(f"{origin}: the bundle holds no signed tree head")
        return
    latest = opened[-1]
    if witnesses and witnessed is None:
        problems.append(f"{origin}: no tree head is cosigned by {witnesses} of the given witnesses")
    complete = bool(log.get("complete"))
    # 2. Events: each stored state re-hashed, chained, and proven included in the latest tree head.
    last: dict[str, tuple[int, bytes]] = {}
    leaves: list[bytes] = []
    for record in sorted(event_records, key=lambda r: int(str(r["index"]))):
        aggregate_id, version, index = str(record["aggregate_id"]), int(str(record["version"])), \
            int(str(record["index"]))
        name = f"{origin}: event {aggregate_id} version {version} (leaf {index})"
        parts = split_state(base64.b64decode(str(record["state"])))
        if parts is None:
            problems.append(f"{name}: its stored bytes carry no chain header")
            return
        prev, stored_own, payload = parts
        own = event_hash(prev, aggregate_id, version, str(record["topic"]), payload)
        if own != stored_own:
            problems.append(f"{name}: its stored hash does not match its id, version, topic or content")
            return
        seen_version, seen_hash = last.get(aggregate_id, (0, GENESIS))
        if complete and (version != seen_version + 1 or prev != seen_hash):
            what = f"version {seen_version + 1} is missing" if version > seen_version + 1 else \
                "it does not follow the stored previous version"
            problems.append(f"{name}: {what}")
            return
        last[aggregate_id] = (version, own)
        leaf = leaf_hash(leaf_data(aggregate_id, version, own))
        if complete and index != len(leaves):
            problems.append(f"{name}: leaf {len(leaves)} is missing from a bundle said to be complete")
            return
        leaves.append(leaf)
        if index < latest.size:
            try:
                proof = _b64list(record.get("inclusion_proof"))
            except ValueError:
                proof = []
            if not verify_inclusion(index, latest.size, leaf, proof, latest.root):
                problems.append(f"{name}: it is not included at this place in the signed tree head of size "
                                f"{latest.size}")
                return
    covered = sum(1 for r in event_records if int(str(r["index"])) < latest.size)
    if complete:
        if len(leaves) < latest.size:
            problems.append(f"{origin}: the signed tree head of size {latest.size} covers {latest.size} events; the "
                            f"bundle holds {len(leaves)}")
            return
        if root_of(leaves[:latest.size]) != latest.root:
            problems.append(f"{origin}: the events do not give the signed root of size {latest.size}")
            return
    uncovered = len(event_records) - covered
    outcome.verified.append(
        f"{origin}: {covered} event(s) proven in the signed tree head of size {latest.size}"
        + (f", {uncovered} not yet covered" if uncovered else "")
        + (f"; witnessed up to size {witnessed.size}" if witnessed is not None else "")
        + (" (complete log)" if complete else ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an audit export bundle (docs/audit.md).")
    parser.add_argument("bundle")
    parser.add_argument("--public-key", action="append", required=True,
                        help="a log's note verifier key (name+hash+base64), as published; repeat for each log")
    parser.add_argument("--witness-key", action="append", default=[], help="a witness's cosignature verifier key")
    parser.add_argument("--witnesses", type=int, default=0, help="cosignatures required on a tree head")
    args = parser.parse_args(argv)
    try:
        outcome = verify_bundle(args.bundle, [VerifierKey.parse(k) for k in args.public_key],
                                [VerifierKey.parse(k) for k in args.witness_key], args.witnesses)
    except (OSError, ValueError, KeyError) as error:
        print(f"cannot read the bundle: {error}", file=sys.stderr)
        return 2
    for line in outcome.verified:
        print(line)
    if outcome.problems:
        print(f"FAILED. First bad event: {outcome.problems[0]}", file=sys.stderr)
        return 1
    print("verified: every event, tree head and proof in the bundle")
    return 0


if __name__ == "__main__":
    sys.exit(main())

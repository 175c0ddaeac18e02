"""A Merkle tree over a service's log (RFC 9162 §2.1 hashing), with inclusion and consistency proofs.

Leaf ``i`` is the log's i-th event in notification order; its data is ``aggregate id LF version LF event hash``
(``standalone.leaf_data``). The tree keeps the hash of every complete, aligned subtree, so a root or a proof of any
size up to the tree's own costs O(log n) hashes. Verification lives in ``shared.audit.standalone``.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.audit.standalone import empty_root, node_hash


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """Leaf hashes and the hashes of every complete aligned subtree, level by level."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        levels = self._levels
        levels[0].extend(leaf_hashes)
        k = 0
        while len(levels[k]) >= 2:
            if len(levels) == k + 1:
                levels.append([])
            lower, upper = levels[k], levels[k + 1]
            upper.extend([node_hash(lower[i], lower[i + 1]) for i in range(2 * len(upper), len(lower) - 1, 2)])
            k += 1

    def _hash(self, start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            return self._levels[level][start >> level]
        k = _split(n)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def _check(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        self._check(size)
        return empty_root() if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size])."""
        size = self.size if size is None else size
        self._check(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
        proof: list[bytes] = []
        start, end, m = 0, size, index
        while end - start > 1:  # top-down; the proof lists siblings bottom-up
            k = _split(end - start)
            if m < k:
                proof.append(self._hash(start + k, end))
                end = start + k
            else:
                proof.append(self._hash(start, start + k))
                start, m = start + k, m - k
        proof.reverse()
        return proof

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(first, D[0:second]); empty when first is 0 or equals second."""
        second = self.size if second is None else second
        self._check(second)
        if not 0 <= first <= second:
            raise ValueError(f"no consistency proof from size {first} to size {second}")
        if first in (0, second):
            return []
        proof: list[bytes] = []
        start, end, m, whole = 0, second, first, True
        while True:
            n = end - start
            if m == n:
                if not whole:
                    proof.append(self._hash(start, end))
                break
            k = _split(n)
            if m <= k:
                proof.append(self._hash(start + k, end))
                end = start + k
            else:
                proof.append(self._hash(start, start + k))
                start, m, whole = start + k, m - k, False
        proof.reverse()
        return proof

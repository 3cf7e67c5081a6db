"""The bounds and thresholds the storage adapters work within, as one value the container
provides (tests that exercise a bound override the provider instead of patching modules).

The defaults are the measured production values; docs/decisions.md and docs/benchmarks.md say
why each is what it is."""

from __future__ import annotations

from dataclasses import dataclass

from domain.search import CANDIDATE_CAP, PHRASE_POOL_CAP
from infrastructure.search_index.scoring import FILL_CAP, PARTIAL_CAP


@dataclass(frozen=True, slots=True)
class Tuning:
    # Search: matches ranked per search, documents holding a phrase's words checked for its
    # order, documents holding only a question's common words among its candidates.
    candidate_cap: int = CANDIDATE_CAP
    phrase_pool_cap: int = PHRASE_POOL_CAP
    fill_cap: int = FILL_CAP
    # When some documents hold every word of a question: how many holding only some join them.
    partial_cap: int = PARTIAL_CAP
    # Listing by taxonomy subtree: a subtree holding at least this share of all documents is
    # listed by walking documents in the page's order and stopping at a full page; a smaller
    # one by fetching its documents. Measured on 100,000 documents (docs/benchmarks.md): the
    # walk takes 6-8 ms for subtrees of 10-20k documents and hundreds of ms for tiny ones;
    # fetching is the other way round.
    subtree_walk_share: float = 0.05
    # Search statistics: a function word's documents are first counted among the table's
    # first rows (about this many, by its pages), where those whose vector is stored whole
    # and uncompressed in at most `scan_vector_bytes` are checked one by one; only when that
    # falls short of DF_CAP is the word's posting list read (`search_repository`,
    # docs/decisions.md "Search").
    scan_rows: int = 8000
    scan_vector_bytes: int = 4096

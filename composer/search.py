"""The pure parts of Library search: what an asset means, similarity, word matching, paging.

No AI calls and no writes here: composer.services orchestrates (embeds the query through the
chain, stores vectors, falls back to words) and calls these.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from django.db.models import Q, QuerySet

from composer.models import Asset

INDEX_TEXT_MAX_LENGTH = 8000


def index_text(asset: Asset) -> str:
    """What an asset means, for search: its prompt, style and text."""
    return " ".join(part for part in (asset.prompt, asset.style, asset.text) if part)[:INDEX_TEXT_MAX_LENGTH]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; -1 for vectors that cannot be compared (other length, zero norm)."""
    if len(a) != len(b):
        return -1.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else -1.0


def rank(query_vector: Sequence[float], rows: Iterable[tuple[int, Sequence[float]]]) -> list[int]:
    """Asset ids, most similar first (ties: newest id first). The caller passes only vectors of
    the query's model. Unrelated assets (no positive similarity) are left out, as a word search
    would leave them out."""
    scores = {asset_id: cosine(query_vector, vector) for asset_id, vector in rows}
    return sorted((pk for pk, score in scores.items() if score > 0), key=lambda pk: (-scores[pk], -pk))


def word_matches(assets: QuerySet[Asset], query: str) -> QuerySet[Asset]:
    """Assets whose prompt, style or text contains every word of the query (any case)."""
    for word in query.split():
        assets = assets.filter(Q(prompt__icontains=word) | Q(text__icontains=word) | Q(style__icontains=word))
    return assets


def page_window(
    items: Sequence[Asset] | QuerySet[Asset], *, page: int, page_size: int
) -> tuple[list[Asset], int | None]:
    """One page of `items` and the next page's number (None on the last). One query for a
    queryset: it fetches a single extra row to know whether another page follows."""
    start = (page - 1) * page_size
    window = list(items[start : start + page_size + 1])
    return window[:page_size], (page + 1 if len(window) > page_size else None)

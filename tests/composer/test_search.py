from __future__ import annotations

from composer import search
from composer.models import Asset


def test_cosine_compares_only_comparable_vectors():
    assert search.cosine([1.0, 0.0], [2.0, 0.0]) == 1.0
    assert search.cosine([1.0, 0.0], [0.0, 1.0]) == 0.0
    assert search.cosine([1.0, 0.0], [1.0, 0.0, 0.0]) == -1.0
    assert search.cosine([0.0, 0.0], [1.0, 0.0]) == -1.0


def test_rank_puts_the_closest_first_and_drops_the_unrelated():
    rows = [(1, [0.0, 1.0]), (2, [1.0, 0.1]), (3, [1.0, 1.0]), (4, [-1.0, 0.0]), (5, [1.0, 0.1])]
    assert search.rank([1.0, 0.0], rows) == [5, 2, 3]


def test_index_text_joins_what_the_asset_means():
    asset = Asset(kind=Asset.Kind.IMAGE, prompt="Pasta", style="Flat lay", text="")
    assert search.index_text(asset) == "Pasta Flat lay"

"""Loading the bundled WordLlama embedding model without touching the network.

``WordLlama.load()`` looks for its tokenizer in the wrong folder of its own wheel and then
tries to download it, which fails offline. Pointing ``cache_dir`` at the installed package and
disabling downloads loads the weights and tokenizer that ship in the wheel.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["load_wordllama"]


@lru_cache(maxsize=4)
def load_wordllama(dim: int = 256) -> Any:
    """Returns the WordLlama model (256 dimensions by default), loaded once per process."""
    import wordllama
    from wordllama import WordLlama

    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True, dim=dim)

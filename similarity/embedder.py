"""The text embedding model: WordLlama's `l2_supercat` 256-dimension static token embeddings,
whose weights and tokenizer ship inside the `wordllama` wheel (nothing is downloaded, ever).

A static model averages token vectors: no transformer runs, so a 2-core machine embeds
thousands of passages a second. Its vectors were trained on English; French, Spanish and German
work less well, Arabic poorly (README, "Similar documents").
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

MODEL_NAME = "wordllama-l2_supercat-256"
DIMENSIONS = 256


@functools.cache
def _model():
    # Built from the wheel's own files: `WordLlama.load()` looks for the tokenizer in a folder
    # the wheel does not have and then tries the network, which edms never may.
    import wordllama
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    root = Path(wordllama.__file__).parent
    tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
    with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np") as f:
        weights = f.get_tensor("embedding.weight")
    return WordLlamaInference(weights, tokenizer, binary=False)


def embed(texts: list[str]) -> np.ndarray:
    """One L2-normalised float32 row per text (`DIMENSIONS` columns)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(_model().embed(texts, norm=True), dtype=np.float32)
    return np.ascontiguousarray(vectors)

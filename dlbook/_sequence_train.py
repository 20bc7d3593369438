"""What both layers' ``grad_clipping`` and ``predict_chars`` share: checks and sampling.

The check of the largest gradient norm, the checks of a generation's
vocabulary, prefix, length and temperature, and the sampling loop itself.

Introduced with ``grad_clipping`` and ``predict_chars`` in ``book/rnn.md``.
"""
import numpy as onp

from ._checks import check_int, check_number, describe
from .sequence import Vocab

__all__ = []  # private module: the layers' grad_clipping and predict_chars are the public face

def _check_theta(theta):
    """grad_clipping's check of the largest norm (both layers)."""
    return check_number("theta", theta, above=0, what="a gradient norm")


def _check_generation(vocab, vocab_size, layer, prefix, num_chars, temperature):
    """predict_chars' checks after the model's (both layers); returns the prefix's indices."""
    if not isinstance(vocab, Vocab):
        raise TypeError(
            f"Expected `vocab` to be a dlbook.{layer}.sequence.Vocab, got {describe(vocab)}.")
    if len(vocab) > vocab_size:
        raise ValueError(
            f"`vocab` has {len(vocab)} tokens but `net` was built for vocab_size="
            f"{vocab_size}; use the vocabulary the model was trained with."
        )
    if not isinstance(prefix, str):
        raise TypeError(f"Expected `prefix` as a string, got {describe(prefix)}.")
    ids = vocab.encode(prefix).tolist()
    if not ids:
        raise ValueError("Expected a non-empty `prefix` (at least one token) to start from.")
    check_int("num_chars", num_chars, minimum=0)
    check_number("temperature", temperature, minimum=0,
                 fix="Pass 0 for the likeliest token, 1 to sample from the model's distribution.")
    return ids


def _generate(step, prefix, ids, num_chars, vocab, temperature, seed):
    """The decoding loop of predict_chars (both layers).

    ``step(ids)`` feeds the token indices ``ids`` to the model, which keeps its
    state between calls, and returns the scores after the last one as a 1-D
    array.
    """
    rng = onp.random.default_rng(seed)
    generated, inputs = [], ids
    for _ in range(int(num_chars)):
        scores = onp.array(step(inputs), dtype="float64")[:len(vocab)]
        if len(vocab) > 1:
            scores[vocab.unk] = -onp.inf  # never generate the unknown token
        if temperature == 0:
            nxt = int(scores.argmax())
        else:
            z = scores / temperature
            p = onp.exp(z - z.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
        generated.append(nxt)
        inputs = [nxt]
    sep = "" if vocab.char_level else " "
    rest = vocab.decode(generated)
    return prefix + (sep if rest and sep and not prefix.endswith(sep) else "") + rest

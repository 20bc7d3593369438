"""Tests of attention and the transformer: the masks and the positional table (core,
dlbook.attention) and the layers of both frameworks (dlbook.mxnet.attention,
dlbook.torch.attention), including that the two layers compute the same numbers from
the same weights.

Tests that take the ``dl`` fixture run for MXNet and PyTorch.
"""
import importlib
import inspect
import math

import mxnet as mx
import numpy as onp
import pytest
import torch

from dlbook import attention as core
from dlbook.metrics import perplexity
from dlbook.sequence import Vocab


def _layer(dl):
    return importlib.import_module(f"dlbook.{dl.FRAMEWORK}.attention")


def _tensor(dl, values, dtype="float32"):
    values = onp.asarray(values, dtype=dtype)
    if dl.FRAMEWORK == "mxnet":
        return mx.np.array(values, dtype=dtype)
    return torch.as_tensor(values)


def _np(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array.detach().cpu().numpy()


def _ready(dl, net):
    if dl.FRAMEWORK == "mxnet":
        net.initialize(mx.init.Xavier())
    return net


# ------------------------------------------------------------------- core
def test_positional_table_follows_the_formula():
    P = core.positional_encoding(30, 6, base=100.0)
    t, i = 7, 2
    angle = t / 100.0 ** (2 * i / 6)
    assert P.shape == (30, 6) and P.dtype == onp.float32
    assert P[t, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
    assert P[t, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)
    odd = core.positional_encoding(5, 5)
    assert odd.shape == (5, 5)
    assert onp.allclose(odd[:, 4], onp.sin(onp.arange(5) / 10000.0 ** (4 / 5)))  # no last cosine


def test_positional_dot_products_depend_only_on_the_offset():
    P = core.positional_encoding(100, 32).astype("float64")
    near = [P[t] @ P[t + 3] for t in range(0, 90)]
    assert onp.ptp(near) < 1e-4


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"max_len": 0, "d_model": 4}, ValueError, r"`max_len` >= 1"),
    ({"max_len": 5, "d_model": 2.5}, TypeError, r"`d_model` to be an integer"),
    ({"max_len": 5, "d_model": 4, "base": 1.0}, ValueError, r"`base` > 1"),
])
def test_positional_table_rejects_bad_sizes(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        core.positional_encoding(**kwargs)


def test_masks():
    assert core.causal_mask(4).tolist() == onp.tril(onp.ones((4, 4), bool)).tolist()
    mask = core.padding_mask([1, 3], 3)
    assert mask.shape == (2, 1, 3) and mask.dtype == bool
    assert mask[:, 0].tolist() == [[True, False, False], [True, True, True]]
    both = mask & core.causal_mask(3)
    assert both.shape == (2, 3, 3) and not both[0, 2, 1] and both[1, 2, 1]


@pytest.mark.parametrize("lens, error, pattern", [
    ([0, 2], ValueError, r"in \[1, num_steps=3\], got values from 0 to 2"),
    ([2, 4], ValueError, r"got values from 2 to 4"),
    ([[1, 2]], ValueError, r"`valid_lens` with 1 dimensions"),
    ([1.5], ValueError, r"whole numbers"),
    (["a"], TypeError, r"`valid_lens` to hold numbers"),
])
def test_padding_mask_rejects_bad_lengths(lens, error, pattern):
    with pytest.raises(error, match=pattern):
        core.padding_mask(lens, 3)


def test_causal_mask_rejects_a_bad_length():
    with pytest.raises(ValueError, match=r"`num_steps` >= 1"):
        core.causal_mask(0)


def test_perplexity():
    assert perplexity([[0, 1, 2]], onp.zeros((1, 3, 4))) == pytest.approx(4.0)
    scores = onp.log(onp.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]))
    assert perplexity([0, 1], scores) == pytest.approx(math.exp(-(math.log(0.5) + math.log(0.8)) / 2))
    with pytest.raises(ValueError, match=r"Expected `scores` of shape \(2, 'V'\)"):
        perplexity([0, 1], onp.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"`y_true` in \[0, 2\]"):
        perplexity([0, 3], onp.zeros((2, 3)))


# ------------------------------------------------------- both layers alike
def test_both_layers_have_the_same_names_and_signatures():
    layers = [importlib.import_module(f"dlbook.{f}.attention") for f in ("mxnet", "torch")]
    assert layers[0].__all__ == layers[1].__all__
    for name in layers[0].__all__:
        objects = [getattr(layer, name) for layer in layers]
        assert inspect.signature(objects[0]) == inspect.signature(objects[1]), name
        assert ">>>" in (inspect.getdoc(objects[0]) or ""), name
        assert ">>>" in (inspect.getdoc(objects[1]) or ""), name


def test_attention_of_a_one_hot_weight_is_a_lookup(dl):
    att = _layer(dl)
    K = _tensor(dl, onp.eye(3)[None])
    V = _tensor(dl, [[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    out, weights = att.scaled_dot_product_attention(_tensor(dl, [[[0, 60.0, 0]]]), K, V)
    assert onp.allclose(_np(weights), [[[0, 1, 0]]], atol=1e-6)
    assert onp.allclose(_np(out), [[[3.0, 4.0]]], atol=1e-5)
    out, weights = att.scaled_dot_product_attention(_tensor(dl, [[[0, 0, 0.0]]]), K, V)
    assert onp.allclose(_np(out), [[[3.0, 4.0]]], atol=1e-6)  # equal weights: the mean


def test_attention_matches_the_formula_and_masks(dl):
    att = _layer(dl)
    rng = onp.random.default_rng(0)
    Q, K, V = (rng.standard_normal(s).astype("float32") for s in ((2, 4, 8), (2, 5, 8), (2, 5, 3)))
    mask = core.padding_mask([5, 2], 5)
    out, weights = att.scaled_dot_product_attention(*(_tensor(dl, a) for a in (Q, K, V)), mask=mask)
    scores = Q @ K.transpose(0, 2, 1) / math.sqrt(8)
    scores = onp.where(mask, scores, -onp.inf)
    expected = onp.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    assert onp.allclose(_np(weights), expected, atol=1e-6)
    assert onp.allclose(_np(out), expected @ V, atol=1e-5)
    assert onp.all(_np(weights)[1, :, 2:] == 0)


def test_attention_rejects_bad_shapes(dl):
    att = _layer(dl)
    Q, K, V = _tensor(dl, onp.zeros((2, 4, 8))), _tensor(dl, onp.zeros((2, 5, 8))), \
        _tensor(dl, onp.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"Expected `mask` of shape \(T_q, T_k\) = \(4, 5\).*"
                                         r"got shape \(4, 4\)"):
        att.scaled_dot_product_attention(Q, K, V, mask=core.causal_mask(4))
    with pytest.raises(ValueError, match=r"the same feature size"):
        att.scaled_dot_product_attention(Q, _tensor(dl, onp.zeros((2, 5, 7))), V)
    with pytest.raises(ValueError, match=r"one value per key"):
        att.scaled_dot_product_attention(Q, K, _tensor(dl, onp.zeros((2, 6, 3))))
    with pytest.raises(TypeError, match=r"`queries` as an? (mxnet.np array|torch tensor)"):
        att.scaled_dot_product_attention(onp.zeros((2, 4, 8)), K, V)
    with pytest.raises(TypeError, match=r"`mask` as an array of booleans"):
        att.scaled_dot_product_attention(Q, K, V, mask="causal")


def test_multi_head_attention_shapes_parameters_and_errors(dl):
    att = _layer(dl)
    for heads in (1, 2, 4, 8):
        mha = _ready(dl, att.MultiHeadAttention(16, heads))
        out = mha(_tensor(dl, onp.ones((3, 5, 16))), mask=core.causal_mask(5))
        assert tuple(out.shape) == (3, 5, 16)
        assert tuple(mha.attention_weights.shape) == (3, heads, 5, 5)
        assert dl.count_parameters(mha) == 4 * 16 * 17
    assert dl.count_parameters(_ready(dl, att.MultiHeadAttention(16, 4, use_bias=False))) == 4 * 256
    with pytest.raises(ValueError, match=r"`d_model` divisible by `num_heads`, got d_model=64 "
                                         r"and num_heads=5"):
        att.MultiHeadAttention(64, 5)
    mha = _ready(dl, att.MultiHeadAttention(8, 2))
    with pytest.raises(ValueError, match=r"`queries` of shape \(batch, steps, d_model=8\), "
                                         r"got shape \(3, 5, 6\)"):
        mha(_tensor(dl, onp.ones((3, 5, 6))))
    with pytest.raises(ValueError, match=r"got shape \(6, 6\)"):
        mha(_tensor(dl, onp.ones((3, 5, 8))), mask=core.causal_mask(6))
    X = _tensor(dl, onp.ones((3, 5, 8)))
    assert tuple(mha(X, mask=core.padding_mask([1, 2, 5], 5)).shape) == (3, 5, 8)
    with pytest.raises(ValueError, match=r"got shape \(2, 1, 5\)"):
        mha(X, mask=core.padding_mask([1, 2], 5))


def test_causal_attention_does_not_see_the_future(dl):
    att = _layer(dl)
    rng = onp.random.default_rng(1)
    mha = _ready(dl, att.MultiHeadAttention(8, 2))
    X = rng.standard_normal((2, 6, 8)).astype("float32")
    X2 = X.copy()
    X2[:, 4] += 5.0
    out = [_np(mha(_tensor(dl, x), mask=core.causal_mask(6))) for x in (X, X2)]
    assert onp.array_equal(out[0][:, :4], out[1][:, :4])
    assert not onp.allclose(out[0][:, 4:], out[1][:, 4:])
    free = [_np(mha(_tensor(dl, x))) for x in (X, X2)]
    assert not onp.allclose(free[0][:, :4], free[1][:, :4])  # without the mask it would


def test_self_attention_is_permutation_equivariant_until_positions_are_added(dl):
    att = _layer(dl)
    rng = onp.random.default_rng(2)
    mha = _ready(dl, att.MultiHeadAttention(8, 2))
    X = rng.standard_normal((1, 7, 8)).astype("float32")
    perm = rng.permutation(7)
    out = _np(mha(_tensor(dl, X)))
    out_perm = _np(mha(_tensor(dl, X[:, perm])))
    assert onp.allclose(out[:, perm], out_perm, atol=1e-5)
    pe = att.PositionalEncoding(8, max_len=10)
    with_pos = _np(mha(pe(_tensor(dl, X))))
    with_pos_perm = _np(mha(pe(_tensor(dl, X[:, perm]))))
    assert not onp.allclose(with_pos[:, perm], with_pos_perm, atol=1e-3)


def test_positional_encoding_layer(dl):
    att = _layer(dl)
    pe = att.PositionalEncoding(4, max_len=6)
    out = _np(pe(_tensor(dl, onp.zeros((2, 6, 4)))))
    assert onp.allclose(out[1], core.positional_encoding(6, 4))
    assert dl.count_parameters(pe) == 0
    with pytest.raises(ValueError, match=r"at most max_len=6 steps .* got 7 steps"):
        pe(_tensor(dl, onp.zeros((1, 7, 4))))
    with pytest.raises(ValueError, match=r"`X` of shape \(batch, steps, d_model=4\)"):
        pe(_tensor(dl, onp.zeros((1, 3, 5))))


@pytest.mark.parametrize("norm_first", [True, False])
def test_transformer_block_parameters_and_errors(dl, norm_first):
    att = _layer(dl)
    block = _ready(dl, att.TransformerBlock(8, 2, d_ff=12, norm_first=norm_first))
    out = block(_tensor(dl, onp.ones((2, 3, 8))), mask=core.causal_mask(3))
    assert tuple(out.shape) == (2, 3, 8)
    assert dl.count_parameters(block) == 4 * 8 * 9 + 2 * 2 * 8 + (8 * 12 + 12) + (12 * 8 + 8)
    with pytest.raises(ValueError, match=r"divisible"):
        att.TransformerBlock(8, 3)
    with pytest.raises(ValueError, match=r"`dropout` in \[0.0, 1.0\)"):
        att.TransformerBlock(8, 2, dropout=1.0)
    with pytest.raises(TypeError, match=r"`norm_first` as True or False"):
        att.TransformerBlock(8, 2, norm_first="yes")
    with pytest.raises(ValueError, match=r"got shape \(4, 4\)"):
        block(_tensor(dl, onp.ones((2, 3, 8))), mask=core.causal_mask(4))


def test_transformer_lm_is_causal_and_checks_its_input(dl):
    att = _layer(dl)
    lm = _ready(dl, att.transformer_lm(vocab_size=11, d_model=8, num_heads=2, max_len=6))
    assert dl.count_parameters(lm) == 11 * 8 + 2 * (4 * 72 + 32 + 8 * 32 + 32 + 32 * 8 + 8) \
        + 16 + 8 * 11 + 11
    X = onp.array([[1, 2, 3, 4, 5, 6]])
    X2 = X.copy()
    X2[0, 3] = 9
    dtype = "int32" if dl.FRAMEWORK == "mxnet" else "int64"
    out = [_np(lm(_tensor(dl, x, dtype))) for x in (X, X2)]
    assert out[0].shape == (1, 6, 11)
    assert onp.allclose(out[0][:, :3], out[1][:, :3], atol=1e-6)
    assert not onp.allclose(out[0][:, 3:], out[1][:, 3:])
    with pytest.raises(ValueError, match=r"at most max_len=6 steps"):
        lm(_tensor(dl, onp.zeros((1, 7)), dtype))
    with pytest.raises(ValueError, match=r"2 dimensions \(batch, time\)"):
        lm(_tensor(dl, onp.zeros(5), dtype))
    # an index outside the vocabulary: MXNet's embedding would read a wrong row silently
    for bad, seen in ((11, "from 2 to 11"), (-1, "from -1 to 6")):
        X3 = X.copy()
        X3[0, 0] = bad
        with pytest.raises(ValueError, match=rf"Vocabulary mismatch: `X` holds token indices "
                                             rf"{seen}, but the model was built for vocab_size=11"):
            lm(_tensor(dl, X3, dtype))
    with pytest.raises(ValueError, match=r"`vocab_size` >= 1"):
        att.transformer_lm(vocab_size=0)


def test_generate_is_seeded_and_checks_its_arguments(dl):
    att = _layer(dl)
    vocab = Vocab("abcabd")
    lm = _ready(dl, att.TransformerLM(len(vocab), d_model=8, num_heads=2, num_layers=1, max_len=4))
    text = att.generate(lm, "abc", 10, vocab, temperature=1.0, seed=3)
    assert text.startswith("abc") and len(text) == 13 and "<unk>" not in text
    assert text == att.generate(lm, "abc", 10, vocab, temperature=1.0, seed=3)
    assert len(att.generate(lm, "a", 5, vocab)) == 6
    with pytest.raises(TypeError, match=r"`net` to be a TransformerLM"):
        att.generate(object(), "a", 3, vocab)
    with pytest.raises(ValueError, match=r"non-empty `prefix`"):
        att.generate(lm, "", 3, vocab)


def test_the_transformer_lm_trains_with_the_trainer(dl):
    att = _layer(dl)
    dl.seed_everything(0)
    corpus = onp.tile(onp.arange(1, 6), 200)  # 1 2 3 4 5 1 2 3 4 5 ...
    batches = dl.sequence.SequenceBatches(corpus, batch_size=8, num_steps=8, seed=0)
    lm = att.transformer_lm(vocab_size=6, d_model=16, num_heads=2, num_layers=1, max_len=8)
    trainer = dl.Trainer(lm, loss="cross_entropy", optimizer="adam", learning_rate=0.01,
                         initializer="xavier")
    history = trainer.fit(batches, epochs=3, verbose=False)
    assert math.exp(history["loss"][-1]) < 1.5  # the next token is certain after the first
    X, Y = next(iter(batches))
    assert perplexity(_np(Y)[:, 1:], trainer.predict(X)[:, 1:]) < 1.2


# ---------------------------------------------------- the same numbers in both
def _copy_torch_to_mxnet(torch_net, mx_net):
    """Give the Gluon block the weights of the torch module (same structural names)."""
    from dlbook.mxnet._gluon import params_by_path

    torch_params = dict(torch_net.named_parameters())
    gluon_params = params_by_path(mx_net)
    renames = {"gamma": "weight", "beta": "bias"}
    assert len(torch_params) == len(gluon_params)
    for name, param in gluon_params.items():
        head, _, leaf = name.rpartition(".")
        source = torch_params[(head + "." if head else "") + renames.get(leaf, leaf)]
        param.set_data(mx.np.array(source.detach().numpy()))


def test_mxnet_and_torch_attention_agree_for_the_same_weights():
    from dlbook.mxnet import attention as mx_att
    from dlbook.torch import attention as torch_att

    rng = onp.random.default_rng(3)
    X = rng.standard_normal((2, 6, 16)).astype("float32")
    t_mha = torch_att.MultiHeadAttention(16, 4)
    m_mha = mx_att.MultiHeadAttention(16, 4)
    m_mha.initialize()
    _copy_torch_to_mxnet(t_mha, m_mha)
    mask = core.padding_mask([6, 3], 6) & core.causal_mask(6)
    t_out = t_mha(torch.from_numpy(X), mask=mask).detach().numpy()
    m_out = m_mha(mx.np.array(X), mask=mask).asnumpy()
    assert onp.allclose(t_out, m_out, atol=1e-5)
    assert onp.allclose(t_mha.attention_weights.numpy(), m_mha.attention_weights.asnumpy(),
                        atol=1e-6)
    q, k, v = (rng.standard_normal((3, 4, 5)).astype("float32") for _ in range(3))
    t_out, t_w = torch_att.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)))
    m_out, m_w = mx_att.scaled_dot_product_attention(*map(mx.np.array, (q, k, v)))
    assert onp.allclose(t_out.numpy(), m_out.asnumpy(), atol=1e-6)
    assert onp.allclose(t_w.numpy(), m_w.asnumpy(), atol=1e-6)


def test_mxnet_and_torch_language_models_agree_for_the_same_weights():
    from dlbook.mxnet import attention as mx_att
    from dlbook.torch import attention as torch_att

    t_lm = torch_att.transformer_lm(vocab_size=13, d_model=16, num_heads=4, max_len=9)
    m_lm = mx_att.transformer_lm(vocab_size=13, d_model=16, num_heads=4, max_len=9)
    m_lm.initialize()
    _copy_torch_to_mxnet(t_lm, m_lm)
    X = onp.random.default_rng(4).integers(0, 13, size=(3, 9))
    t_out = t_lm(torch.from_numpy(X)).detach().numpy()
    m_out = m_lm(mx.np.array(X, dtype="int32")).asnumpy()
    assert onp.allclose(t_out, m_out, atol=1e-4)
    m_lm.hybridize()
    assert onp.allclose(m_lm(mx.np.array(X, dtype="int32")).asnumpy(), t_out, atol=1e-4)

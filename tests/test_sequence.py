"""Tests of the sequence tools: windows, vocabulary, the KJV text, language-model batches
(core, dlbook.sequence) and RNNModel, gradient clipping and text generation (both layers).

Tests that take the ``dl`` fixture run for MXNet and PyTorch.
"""
import shutil

import mxnet as mx
import numpy as onp
import pytest
import torch
from mxnet import autograd, gluon
from torch import nn

from dlbook import sequence as core
from dlbook.mxnet.sequence import (
    KJV_BOOKS,
    RNNModel,
    SequenceBatches,
    Vocab,
    grad_clipping,
    load_kjv,
    make_windows,
    predict_chars,
)
from dlbook.mxnet.train import Trainer



def _tensor(dl, values, dtype=None):
    """``values`` as the layer's array type (float32 unless integer or ``dtype`` says so)."""
    values = onp.asarray(values)
    if dtype is None and onp.issubdtype(values.dtype, onp.floating):
        dtype = "float32"
    if dl.FRAMEWORK == "mxnet":
        return mx.np.array(values, dtype=dtype)
    return torch.as_tensor(onp.asarray(values, dtype=dtype))


def _np(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array.detach().cpu().numpy()


def _ready(dl, net):
    """``net`` initialized (MXNet's explicit step; a PyTorch module already is)."""
    if dl.FRAMEWORK == "mxnet":
        net.initialize(mx.init.Normal(0.5))
    return net


needs_bible = pytest.mark.skipif(shutil.which("bible") is None,
                                 reason="Debian's bible-kjv is not installed")


# ------------------------------------------------------------- make_windows
def test_windows_of_a_1d_series():
    X, y = make_windows(onp.arange(10), window=4, horizon=2)
    assert X.shape == (5, 4) and y.shape == (5, 2)
    assert X.dtype == onp.float32 and y.dtype == onp.float32
    for i in range(5):
        assert X[i].tolist() == list(range(i, i + 4))
        assert y[i].tolist() == [i + 4, i + 5]


def test_windows_of_a_2d_series_keep_the_features():
    series = onp.stack([onp.arange(6), -onp.arange(6)], axis=1)  # (6, 2)
    X, y = make_windows(series, window=3)
    assert X.shape == (3, 3, 2) and y.shape == (3, 1, 2)
    assert X[1, :, 1].tolist() == [-1, -2, -3] and y[2, 0].tolist() == [5, -5]


def test_windows_need_enough_values():
    X, y = make_windows([1.0, 2.0, 3.0], window=2)  # exactly one example
    assert X.tolist() == [[1.0, 2.0]] and y.tolist() == [[3.0]]
    with pytest.raises(ValueError, match=r"at least window \+ horizon = 4 values, got 3"):
        make_windows([1.0, 2.0, 3.0], window=3)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"window": 0}, ValueError, "`window` >= 1"),
    ({"window": 2.5}, TypeError, "`window` to be an integer"),
    ({"window": 2, "horizon": 0}, ValueError, "`horizon` >= 1"),
])
def test_windows_reject_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_windows(onp.arange(10), **kwargs)


def test_windows_reject_bad_series():
    with pytest.raises(ValueError, match="`series` with 1 or 2 dimensions"):
        make_windows(onp.zeros((4, 3, 2)), window=2)
    with pytest.raises(ValueError, match="NaN or infinite"):
        make_windows([1.0, onp.nan, 3.0, 4.0], window=2)
    with pytest.raises(TypeError, match="to hold numbers"):
        make_windows(["a", "b", "c"], window=1)


# -------------------------------------------------------------------- Vocab
def test_character_vocabulary_orders_by_frequency():
    vocab = Vocab("abracadabra")
    assert vocab.idx_to_token == ["<unk>", "a", "b", "r", "c", "d"]
    assert len(vocab) == 6 and vocab.char_level
    assert vocab["a"] == 1 and vocab["z"] == 0 and "z" not in vocab and "r" in vocab
    assert vocab.counts["a"] == 5


def test_encode_decode_round_trip_and_unknown():
    vocab = Vocab("the quick brown fox")
    text = "the brown fox"
    ids = vocab.encode(text)
    assert ids.dtype == onp.int32 and len(ids) == len(text)
    assert vocab.decode(ids) == text
    assert vocab.decode(mx.np.array(ids)) == text  # MXNet arrays too
    assert vocab.encode("z!").tolist() == [0, 0]
    assert vocab.decode(vocab.encode("fox?")) == "fox<unk>"
    assert vocab.decode([]) == ""


def test_token_vocabulary_and_min_freq():
    words = "to be or not to be".split()
    vocab = Vocab(words, min_freq=2)
    assert vocab.idx_to_token == ["<unk>", "be", "to"] and not vocab.char_level
    assert vocab.encode("to be or").tolist() == [2, 1, 0]
    assert vocab.encode(["be", "to"]).tolist() == [1, 2]
    assert vocab.decode([2, 1]) == "to be"


@pytest.mark.parametrize("tokens, error, match", [
    ("", ValueError, "non-empty `tokens`"),
    ([], ValueError, "non-empty `tokens`"),
    (["a", 3], TypeError, "every token to be a string.*position 1"),
    (42, TypeError, "Expected `tokens` as a string"),
])
def test_vocab_rejects_bad_tokens(tokens, error, match):
    with pytest.raises(error, match=match):
        Vocab(tokens)


def test_vocab_rejects_bad_settings_and_indices():
    with pytest.raises(ValueError, match="`min_freq` >= 1"):
        Vocab("abc", min_freq=0)
    with pytest.raises(TypeError, match="`unknown` to be a non-empty string"):
        Vocab("abc", unknown="")
    vocab = Vocab("abc")
    with pytest.raises(ValueError, match=r"`indices` in \[0, 3\].*from 0 to 7"):
        vocab.decode([0, 7])
    with pytest.raises(ValueError, match="fractional"):
        vocab.decode([0.5])
    with pytest.raises(ValueError, match="`indices` with 0 or 1 dimensions"):
        vocab.decode([[1, 2]])


# ----------------------------------------------------------------- load_kjv
@needs_bible
def test_genesis_is_one_verse_per_line_without_numbers():
    text = load_kjv("Genesis")
    verses = text.splitlines()
    assert len(verses) == 1533
    assert verses[0] == "In the beginning God created the heaven and the earth."
    assert verses[-1].startswith("So Joseph died, being an hundred and ten years old")
    assert not any(ch.isdigit() for ch in text)  # verse numbers and headings are gone


@needs_bible
def test_books_in_order_with_references_and_any_case():
    lines = load_kjv(["jude", "Song of  Solomon"], references=True).splitlines()
    assert lines[0].startswith("Jude 1:1 Jude, the servant of Jesus Christ")
    assert lines[24].startswith("Jude 1:25 ")
    assert lines[25].startswith("Song of Solomon 1:1 The song of songs")
    assert len(lines) == 25 + 117


@needs_bible
def test_whole_bible_has_31102_verses():
    assert len(KJV_BOOKS) == 66
    assert len(load_kjv().splitlines()) == 31102


def test_unknown_book_gets_a_suggestion():
    with pytest.raises(ValueError, match="Unknown book 'Genesys'. Did you mean 'Genesis'"):
        load_kjv("Genesys")
    with pytest.raises(ValueError, match="KJV_BOOKS"):
        load_kjv(["Genesis", "I John"])  # the program would silently read Isaiah


def test_bad_books_argument():
    with pytest.raises(TypeError, match="Expected `books` as a book name"):
        load_kjv([])
    with pytest.raises(TypeError, match="book names as strings"):
        load_kjv([1])


def test_missing_program_names_the_debian_packages():
    with pytest.raises(FileNotFoundError, match="`bible-kjv`.*`bible-kjv-text`.*apt install"):
        load_kjv("Genesis", program="no-such-bible-program")


def test_failing_program_is_reported(tmp_path):
    fake = tmp_path / "fake-bible"
    fake.write_text("#!/bin/sh\necho 'Cannot open data file' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(RuntimeError, match="exit status 3.*Cannot open data file"):
        load_kjv("Genesis", program=str(fake))
    silent = tmp_path / "silent-bible"
    silent.write_text("#!/bin/sh\nexit 0\n")
    silent.chmod(0o755)
    with pytest.raises(RuntimeError, match="printed no verses"):
        load_kjv("Ruth", program=str(silent))


# ---------------------------------------------------------- SequenceBatches
def test_sequential_batches_continue_row_by_row():
    corpus = onp.arange(1000)
    batches = SequenceBatches(corpus, batch_size=4, num_steps=7, seed=0)
    assert batches.carries_state
    epoch = [(X.asnumpy(), Y.asnumpy()) for X, Y in batches]
    assert len(epoch) == len(batches) > 10
    for X, Y in epoch:
        assert X.shape == Y.shape == (4, 7) and X.dtype == onp.int32
        onp.testing.assert_array_equal(Y, X + 1)  # the next token
        onp.testing.assert_array_equal(onp.diff(X, axis=1), 1)  # consecutive tokens
    for (X0, _), (X1, _) in zip(epoch, epoch[1:]):
        onp.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)  # rows continue


def test_random_batches_are_disjoint_pieces():
    corpus = onp.arange(500)
    batches = SequenceBatches(corpus, batch_size=3, num_steps=5, partition="random", seed=1)
    assert not batches.carries_state
    starts = []
    for X, Y in batches:
        X, Y = X.asnumpy(), Y.asnumpy()
        onp.testing.assert_array_equal(Y, X + 1)
        onp.testing.assert_array_equal(onp.diff(X, axis=1), 1)
        starts.extend(X[:, 0].tolist())
    assert len(set(starts)) == len(starts) == 3 * len(batches)
    assert len({s % 5 for s in starts}) == 1  # one offset per epoch
    assert starts != sorted(starts)  # shuffled


def test_epochs_have_the_same_length_and_new_offsets():
    batches = SequenceBatches(onp.arange(103), batch_size=2, num_steps=10, seed=3)
    firsts = set()
    for _ in range(20):
        epoch = list(batches)
        assert len(epoch) == len(batches)
        firsts.add(int(epoch[0][0][0, 0].item()))
    assert len(firsts) > 1 and max(firsts) < 10


def test_without_shuffle_the_batches_repeat():
    batches = SequenceBatches(onp.arange(60), batch_size=2, num_steps=4, partition="random",
                              shuffle=False)
    first = [X.asnumpy().tolist() for X, _ in batches]
    assert first == [X.asnumpy().tolist() for X, _ in batches]
    assert first[0] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_sequence_batches_reject_bad_input():
    with pytest.raises(ValueError, match="gives no batch of batch_size=4 x num_steps=10"):
        SequenceBatches(onp.arange(30), batch_size=4, num_steps=10)
    with pytest.raises(ValueError, match="`corpus` with 1 dimensions"):
        SequenceBatches(onp.zeros((5, 5), dtype=int), batch_size=1, num_steps=2)
    with pytest.raises(ValueError, match="token indices >= 0"):
        SequenceBatches(onp.arange(-5, 50), batch_size=1, num_steps=2)
    with pytest.raises(ValueError, match="fractional"):
        SequenceBatches(onp.linspace(0, 1, 50), batch_size=1, num_steps=2)
    with pytest.raises(ValueError, match="Unknown `partition` 'shuffled'"):
        SequenceBatches(onp.arange(50), batch_size=1, num_steps=2, partition="shuffled")
    with pytest.raises(ValueError, match="`num_steps` >= 1"):
        SequenceBatches(onp.arange(50), batch_size=1, num_steps=0)


# ----------------------------------------------------------------- RNNModel
@pytest.mark.parametrize("cell, num_states", [("rnn", 1), ("gru", 1), ("lstm", 2)])
def test_rnn_model_shapes(np_mode, cell, num_states):
    single = RNNModel(num_outputs=3, num_hiddens=6, cell=cell)
    single.initialize()
    assert single(mx.np.zeros((5, 7))).shape == (5, 3)  # (batch, T): one feature per step
    with pytest.raises(ValueError, match="1 feature.*first called with, got shape .5, 7, 4."):
        single(mx.np.zeros((5, 7, 4)))
    net = RNNModel(num_outputs=3, num_hiddens=6, cell=cell, num_layers=2)
    net.initialize()
    assert net(mx.np.zeros((5, 7, 4))).shape == (5, 3)  # (batch, T, d)
    state = net.begin_state(5)
    assert len(state) == num_states and all(s.shape == (2, 5, 6) for s in state)
    out, new_state = net(mx.np.zeros((5, 7, 4)), state)
    assert out.shape == (5, 3) and len(new_state) == num_states
    seq = RNNModel(num_outputs=3, num_hiddens=6, cell=cell, return_sequences=True)
    seq.initialize()
    assert seq(mx.np.zeros((5, 7))).shape == (5, 7, 3)
    assert mx.util.is_np_array() == np_mode  # the model did not switch the mode globally


@pytest.mark.parametrize("hybridize", [False, True])
def test_carrying_the_state_equals_one_long_pass(hybridize):
    net = RNNModel(num_outputs=11, num_hiddens=9, cell="lstm", vocab_size=11)
    net.initialize(mx.init.Normal(0.5))
    if hybridize:
        net.hybridize(static_alloc=True)
    X = mx.np.array(onp.random.default_rng(0).integers(0, 11, size=(2, 12)), dtype="int32")
    whole, _ = net(X, net.begin_state(2))
    first, state = net(X[:, :5], net.begin_state(2))
    second, _ = net(X[:, 5:], state)
    joined = onp.concatenate([first.asnumpy(), second.asnumpy()], axis=1)
    onp.testing.assert_allclose(joined, whole.asnumpy(), rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(net(X).asnumpy(), whole.asnumpy(), rtol=1e-6)


def test_plain_rnn_step_matches_the_formula():
    mx.npx.set_np()
    net = RNNModel(num_outputs=2, num_hiddens=4, cell="rnn")
    net.initialize(mx.init.Normal(0.5))
    X = mx.np.random.normal(size=(3, 2, 5))  # batch 3, 2 steps, 5 features
    net(X)
    p = {k.split("_", 1)[1] if "_" in k else k: v.data().asnumpy()
         for k, v in net.rnn.collect_params().items()}
    W_xh = [v for k, v in p.items() if k.endswith("l0_i2h_weight")][0]
    W_hh = [v for k, v in p.items() if k.endswith("l0_h2h_weight")][0]
    b = [v for k, v in p.items() if k.endswith("l0_i2h_bias")][0] + \
        [v for k, v in p.items() if k.endswith("l0_h2h_bias")][0]
    h = onp.zeros((3, 4))
    for t in range(2):
        h = onp.tanh(X.asnumpy()[:, t] @ W_xh.T + h @ W_hh.T + b)
    out = h @ net.dense.weight.data().asnumpy().T + net.dense.bias.data().asnumpy()
    onp.testing.assert_allclose(net(X).asnumpy(), out, rtol=1e-4, atol=1e-5)


def test_rnn_model_learns_a_sine_forecast_with_the_trainer():
    series = onp.sin(onp.arange(300) * 0.3).astype("float32")
    X, y = make_windows(series, window=8)
    trainer = Trainer(RNNModel(1, num_hiddens=16, cell="gru"), loss="mse", optimizer="adam",
                      learning_rate=0.02, metrics=["mae"])
    history = trainer.fit((X, y), epochs=15, batch_size=32, verbose=False)
    assert history.last("mae") < 0.1 < history["mae"][0]
    assert trainer.predict(X[:4]).shape == (4, 1)


# ------------------------------------------------------------- grad_clipping
def _gradients(scale):
    mx.npx.set_np()
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize(mx.init.Constant(1.0))
    X = mx.np.ones((2, 4)) * scale
    with autograd.record():
        loss = net(X).sum()
    loss.backward()
    return net


def test_clipping_bounds_the_norm_and_keeps_the_direction():
    net = _gradients(100.0)
    before = {k: p.grad().asnumpy().copy() for k, p in net.collect_params().items()}
    norm = grad_clipping(net, theta=1.0)
    expected = onp.sqrt(sum((g ** 2).sum() for g in before.values()))
    assert norm == pytest.approx(expected, rel=1e-5) and norm > 1
    after = {k: p.grad().asnumpy() for k, p in net.collect_params().items()}
    new_norm = onp.sqrt(sum((g ** 2).sum() for g in after.values()))
    assert new_norm == pytest.approx(1.0, rel=1e-5)
    for k in before:
        onp.testing.assert_allclose(after[k], before[k] / norm, rtol=1e-5)


def test_small_gradients_are_left_alone():
    net = _gradients(0.01)
    before = net.weight.grad().asnumpy().copy()
    norm = grad_clipping(net.collect_params(), theta=100.0)
    assert norm < 100
    onp.testing.assert_array_equal(net.weight.grad().asnumpy(), before)
    assert grad_clipping(list(net.collect_params().values()), 100.0) == pytest.approx(norm)


# ------------------------------------------------------------- predict_chars
def _trained_lm(text, steps=150):
    mx.npx.set_np()
    vocab = Vocab(text)
    net = RNNModel(len(vocab), num_hiddens=16, cell="gru", vocab_size=len(vocab))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.05})
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    batches = SequenceBatches(vocab.encode(text * 20), batch_size=4, num_steps=8, seed=0)
    step = 0
    while step < steps:
        state = net.begin_state(4)
        for X, Y in batches:
            state = [s.detach() for s in state]
            with autograd.record():
                out, state = net(X, state)
                l = loss(out, Y).mean()
            l.backward()
            grad_clipping(net, 1.0)
            trainer.step(1)
            step += 1
    return net, vocab


def test_a_trained_model_continues_a_pattern():
    net, vocab = _trained_lm("abcde")
    assert predict_chars(net, "ab", 8, vocab) == "abcdeabcde"
    sampled = predict_chars(net, "c", 20, vocab, temperature=0.5, seed=1)
    assert sampled == predict_chars(net, "c", 20, vocab, temperature=0.5, seed=1)  # seeded
    assert len(sampled) == 21 and "<unk>" not in sampled
    assert predict_chars(net, "abc", 0, vocab) == "abc"


def test_mxnet_predict_chars_needs_initialized_parameters():
    fresh = RNNModel(3, num_hiddens=4, vocab_size=3)
    with pytest.raises(RuntimeError, match="no initialized parameters"):
        predict_chars(fresh, "a", 3, Vocab("ab"))


# ================================================================ both layers
def test_core_batches_are_numpy_and_each_layer_converts_them(dl):
    corpus = onp.arange(200)
    plain = core.SequenceBatches(corpus, batch_size=3, num_steps=5, seed=4)
    layered = dl.sequence.SequenceBatches(corpus, batch_size=3, num_steps=5, seed=4)
    assert isinstance(layered, core.SequenceBatches) and repr(layered) == repr(plain)
    dtype = {"mxnet": onp.int32, "torch": onp.int64}[dl.FRAMEWORK]
    for (X0, Y0), (X1, Y1) in zip(plain, layered):
        assert type(X0) is onp.ndarray and X0.dtype == onp.int32
        assert _np(X1).dtype == dtype and _np(Y1).dtype == dtype
        onp.testing.assert_array_equal(_np(X1), X0)
        onp.testing.assert_array_equal(_np(Y1), Y0)
    assert len(list(layered)) == len(layered)


def test_vocab_decodes_tensors_of_both_layers(dl):
    vocab = Vocab("the quick brown fox")
    ids = vocab.encode("brown fox")
    assert vocab.decode(_tensor(dl, ids)) == "brown fox"
    assert vocab.decode(torch.as_tensor(ids, dtype=torch.float32).requires_grad_()) == "brown fox"


@pytest.mark.parametrize("cell, num_states", [("rnn", 1), ("gru", 1), ("lstm", 2)])
def test_rnn_model_shapes_in_both_layers(dl, cell, num_states):
    RNN = dl.sequence.RNNModel
    single = _ready(dl, RNN(num_outputs=3, num_hiddens=6, cell=cell))
    assert _np(single(_tensor(dl, onp.zeros((5, 7))))).shape == (5, 3)
    with pytest.raises(ValueError, match="1 feature.*first called with, got shape .5, 7, 4."):
        single(_tensor(dl, onp.zeros((5, 7, 4))))
    net = _ready(dl, RNN(num_outputs=3, num_hiddens=6, cell=cell, num_layers=2))
    assert _np(net(_tensor(dl, onp.zeros((5, 7, 4))))).shape == (5, 3)
    state = net.begin_state(5)
    assert len(state) == num_states and all(tuple(s.shape) == (2, 5, 6) for s in state)
    out, new_state = net(_tensor(dl, onp.zeros((5, 7, 4))), state)
    assert _np(out).shape == (5, 3) and len(new_state) == num_states
    seq = _ready(dl, RNN(num_outputs=3, num_hiddens=6, cell=cell, return_sequences=True))
    assert _np(seq(_tensor(dl, onp.zeros((5, 7))))).shape == (5, 7, 3)
    lm = _ready(dl, RNN(num_outputs=10, num_hiddens=4, cell=cell, vocab_size=10))
    assert _np(lm(_tensor(dl, [[1, 2, 3]], dtype="int32"))).shape == (1, 3, 10)


@pytest.mark.parametrize("kwargs, shape", [
    (dict(num_outputs=3, num_hiddens=6, cell="rnn"), (2, 7, 4)),
    (dict(num_outputs=3, num_hiddens=6, cell="gru", num_layers=2), (2, 7, 4)),
    (dict(num_outputs=1, num_hiddens=5, cell="lstm", num_layers=3, dropout=0.3), (2, 7)),
    (dict(num_outputs=12, num_hiddens=8, cell="lstm", vocab_size=12), (2, 7)),
])
def test_rnn_models_of_both_layers_have_the_same_parameter_count(kwargs, shape):
    from dlbook import mxnet as dlm, torch as dlt

    counts = []
    for dl in (dlm, dlt):
        net = _ready(dl, dl.sequence.RNNModel(**kwargs))
        X = onp.zeros(shape, dtype="int32" if "vocab_size" in kwargs else "float32")
        net(_tensor(dl, X))
        counts.append(dl.count_parameters(net))
    H, L, V = kwargs["num_hiddens"], kwargs.get("num_layers", 1), kwargs.get("vocab_size")
    d = V or (shape[2] if len(shape) == 3 else 1)
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kwargs["cell"]]
    recurrent = gates * (H * d + H * H + 2 * H) + (L - 1) * gates * (2 * H * H + 2 * H)
    assert counts == [recurrent + H * kwargs["num_outputs"] + kwargs["num_outputs"]] * 2


def test_torch_plain_rnn_step_matches_the_formula():
    from dlbook.torch.sequence import RNNModel as TorchRNN

    net = TorchRNN(num_outputs=2, num_hiddens=4, cell="rnn")
    X = torch.randn(3, 2, 5)
    out = net(X).detach().numpy()
    rnn = net.rnn
    W_xh, W_hh = rnn.weight_ih_l0.detach().numpy(), rnn.weight_hh_l0.detach().numpy()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()
    h = onp.zeros((3, 4))
    for t in range(2):
        h = onp.tanh(X.numpy()[:, t] @ W_xh.T + h @ W_hh.T + b)
    expected = h @ net.dense.weight.detach().numpy().T + net.dense.bias.detach().numpy()
    onp.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert type(rnn) is nn.RNN and rnn.nonlinearity == "tanh" and rnn.input_size == 5


def test_torch_forecaster_infers_its_input_size_and_reloads():
    from dlbook.torch.sequence import RNNModel as TorchRNN

    net = TorchRNN(num_outputs=1, num_hiddens=5, cell="lstm", num_layers=2)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)  # before the sizes are known
    X, y = torch.randn(4, 6, 3), torch.randn(4, 1)
    loss = ((net(X) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    assert type(net.rnn) is nn.LSTM and tuple(net.rnn.weight_ih_l0.shape) == (20, 3)
    assert all(p.grad is not None for p in net.parameters())
    fresh = TorchRNN(num_outputs=1, num_hiddens=5, cell="lstm", num_layers=2)
    fresh.load_state_dict(net.state_dict())
    torch.testing.assert_close(fresh(X), net(X))


def test_carrying_the_state_equals_one_long_pass_in_both_layers(dl):
    net = _ready(dl, dl.sequence.RNNModel(num_outputs=11, num_hiddens=9, cell="gru",
                                          vocab_size=11))
    X = _tensor(dl, onp.random.default_rng(0).integers(0, 11, size=(2, 12)), dtype="int32")
    whole, _ = net(X, net.begin_state(2))
    first, state = net(X[:, :5], net.begin_state(2))
    second, _ = net(X[:, 5:], state)
    joined = onp.concatenate([_np(first), _np(second)], axis=1)
    onp.testing.assert_allclose(joined, _np(whole), rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(_np(net(X)), _np(whole), rtol=1e-6)


def _training(dl, net):
    """A context in which ``net`` runs in training mode (autograd.record, or net.train())."""
    if dl.FRAMEWORK == "mxnet":
        return autograd.record()
    net.train()
    return torch.enable_grad()


def _inference(dl, net):
    if dl.FRAMEWORK == "torch":
        net.eval()
        return torch.no_grad()
    return autograd.pause()


def test_stateful_model_carries_its_state_between_calls(dl):
    net = _ready(dl, dl.sequence.RNNModel(num_outputs=7, num_hiddens=5, cell="lstm",
                                          vocab_size=7, stateful=True))
    X = _tensor(dl, onp.random.default_rng(1).integers(0, 7, size=(3, 10)), dtype="int32")
    with _inference(dl, net):
        whole = _np(net(X, net.begin_state(3))[0])
        net.reset_state()
        halves = onp.concatenate([_np(net(X[:, :4])), _np(net(X[:, 4:]))], axis=1)
        onp.testing.assert_allclose(halves, whole, rtol=1e-5, atol=1e-6)
        again = _np(net(X[:, 4:]))  # continues from the end of X: not a fresh start
        net.reset_state()
        fresh = _np(net(X[:, 4:]))
        assert not onp.allclose(again, fresh)
        onp.testing.assert_allclose(fresh, _np(net(X[:, 4:], net.begin_state(3))[0]), rtol=1e-6)
        net.reset_state()
        _ = net(X[:, :4])
        other_batch = _np(net(X[:2, 4:]))  # a new batch size starts from zeros
        onp.testing.assert_allclose(other_batch, _np(net(X[:2, 4:], net.begin_state(2))[0]),
                                    rtol=1e-6)
        net.reset_state()
        _ = net(X[:, :4])
    with _training(dl, net):  # a new mode starts from zeros
        switched = _np(net(X[:, 4:]))
    with _inference(dl, net):
        onp.testing.assert_allclose(switched, _np(net(X[:, 4:], net.begin_state(3))[0]),
                                    rtol=1e-5, atol=1e-6)


def test_torch_stateful_model_starts_afresh_when_its_mode_is_set():
    from dlbook.torch.sequence import RNNModel as TorchRNN

    net = TorchRNN(num_outputs=5, num_hiddens=4, cell="gru", vocab_size=5, stateful=True).eval()
    X = torch.randint(0, 5, (2, 6))
    with torch.no_grad():
        fresh = net(X)
        assert not torch.allclose(net(X), fresh)  # the second call continues the first
        net.eval()  # what the Trainer does before every evaluation (and train() every epoch)
        torch.testing.assert_close(net(X), fresh)


def test_stateful_model_cuts_the_gradient_path_between_batches():
    from dlbook.torch.sequence import RNNModel as TorchRNN

    net = TorchRNN(num_outputs=5, num_hiddens=4, cell="lstm", vocab_size=5, stateful=True)
    X = torch.randint(0, 5, (2, 6))
    for _ in range(3):  # without detaching, the second backward would reach the first graph
        net(X).sum().backward()
    assert all(not s.requires_grad for s in net._kept[1])


def test_stateful_language_model_trains_with_the_trainer_in_both_layers(dl):
    text = "abcdefgh" * 60
    vocab = Vocab(text)
    corpus = vocab.encode(text)
    batches = dl.sequence.SequenceBatches(corpus, batch_size=4, num_steps=6, seed=0)
    held_out = dl.sequence.SequenceBatches(corpus[:200], batch_size=2, num_steps=6, shuffle=False)
    net = dl.sequence.RNNModel(len(vocab), num_hiddens=16, cell="gru", vocab_size=len(vocab),
                               stateful=True)
    trainer = dl.Trainer(net, loss="cross_entropy", optimizer="adam", learning_rate=0.05)
    history = trainer.fit(batches, epochs=6, verbose=False, validation_data=held_out)
    assert history.last("loss") < 0.2 * history["loss"][0]
    assert history.last("val_loss") < 0.2
    # Validation starts from zeros, and so does every evaluate(), also one right after
    # another (the second does not continue from where the first stopped).
    first = trainer.evaluate(held_out)["loss"]
    assert first == pytest.approx(history.last("val_loss"), rel=1e-5)
    assert trainer.evaluate(held_out)["loss"] == pytest.approx(first, rel=1e-5)
    assert dl.sequence.predict_chars(net, "abc", 5, vocab) == "abcdefgh"


def test_trainer_starts_every_inference_pass_of_a_stateful_model_from_zeros(dl):
    vocab = Vocab("abcdefg")
    net = dl.sequence.RNNModel(len(vocab), num_hiddens=6, cell="lstm", vocab_size=len(vocab),
                               stateful=True)
    trainer = dl.Trainer(net, loss="cross_entropy")
    X = _tensor(dl, onp.random.default_rng(2).integers(0, len(vocab), size=(3, 5)),
                dtype="int32")
    batches = [(X, X)]
    fresh = trainer.predict(X)
    onp.testing.assert_allclose(trainer.predict(X), fresh, rtol=1e-5, atol=1e-6)
    loss = trainer.evaluate(batches)["loss"]
    assert trainer.evaluate(batches)["loss"] == pytest.approx(loss, rel=1e-5)
    onp.testing.assert_allclose(trainer.predict(X), fresh, rtol=1e-5, atol=1e-6)
    # The model itself keeps its state between calls: a second call continues the first.
    with _inference(dl, net):
        net.reset_state()
        _ = net(X)
        assert not onp.allclose(_np(net(X)), fresh, atol=1e-4)


RNN_ERRORS = [
    (dict(num_outputs=1, cell="transformer"), ValueError, "Unknown `cell` 'transformer'"),
    (dict(num_outputs=1, num_hiddens=0), ValueError, "`num_hiddens` >= 1"),
    (dict(num_outputs=0), ValueError, "`num_outputs` >= 1"),
    (dict(num_outputs=1, num_layers=0), ValueError, "`num_layers` >= 1"),
    (dict(num_outputs=1, vocab_size=0), ValueError, "`vocab_size` >= 1"),
    (dict(num_outputs=1, dropout=1.0), ValueError, r"`dropout` in \[0.0, 1.0\)"),
    (dict(num_outputs=1, return_sequences="yes"), TypeError, "`return_sequences` as True or False"),
    (dict(num_outputs=1, stateful=1), TypeError, "`stateful` as True or False"),
]


@pytest.mark.parametrize("kwargs, error, match", RNN_ERRORS)
def test_rnn_model_arguments_are_checked_alike(dl, kwargs, error, match):
    with pytest.raises(error, match=match):
        dl.sequence.RNNModel(**kwargs)


def test_rnn_model_inputs_are_checked_alike(dl):
    net = _ready(dl, dl.sequence.RNNModel(2, num_hiddens=3))
    with pytest.raises(ValueError, match=r"2 \(batch, time\) or 3 .* got shape \(4,\)"):
        net(_tensor(dl, onp.zeros(4)))
    with pytest.raises(TypeError, match="Expected `X` as an? (mxnet.np array|torch tensor)"):
        net(onp.zeros((2, 3)))
    with pytest.raises(ValueError, match="Expected `state` as a list of 2 array"):
        net(_tensor(dl, onp.zeros((2, 3))), [_tensor(dl, onp.zeros((1, 2, 3)))])
    lm = _ready(dl, dl.sequence.RNNModel(5, num_hiddens=3, vocab_size=5))
    with pytest.raises(ValueError, match=r"2 dimensions \(batch, time\) of token indices"):
        lm(_tensor(dl, onp.zeros((2, 3, 1))))
    with pytest.raises(ValueError, match="`batch_size` >= 1"):
        lm.begin_state(0)


def _torch_gradients(scale):
    net = nn.Linear(4, 3)
    nn.init.constant_(net.weight, 1.0)
    nn.init.constant_(net.bias, 1.0)
    net(torch.ones(2, 4) * scale).sum().backward()
    return net


def test_torch_clipping_bounds_the_norm_and_keeps_the_direction():
    from dlbook.torch.sequence import grad_clipping as torch_clipping

    net = _torch_gradients(100.0)
    before = [p.grad.clone() for p in net.parameters()]
    expected = float(torch.sqrt(sum((g ** 2).sum() for g in before)))
    norm = torch_clipping(net, theta=1.0)
    assert norm == pytest.approx(expected, rel=1e-5) and norm > 1
    after = [p.grad for p in net.parameters()]
    assert float(torch.sqrt(sum((g ** 2).sum() for g in after))) == pytest.approx(1.0, rel=1e-5)
    for a, b in zip(after, before):
        torch.testing.assert_close(a, b / norm)
    small = _torch_gradients(0.01)
    kept = small.weight.grad.clone()
    assert torch_clipping(small.parameters(), theta=100.0) < 100
    torch.testing.assert_close(small.weight.grad, kept, rtol=0, atol=0)


def test_both_layers_clip_to_the_same_norm():
    from dlbook.torch.sequence import grad_clipping as torch_clipping

    mx_net = _gradients(3.0)
    torch_net = _torch_gradients(3.0)
    assert grad_clipping(mx_net, 2.0) == pytest.approx(torch_clipping(torch_net, 2.0), rel=1e-6)
    onp.testing.assert_allclose(mx_net.weight.grad().asnumpy(),
                                torch_net.weight.grad.numpy(), rtol=1e-6)


def test_clipping_rejects_bad_arguments_alike(dl):
    net = _gradients(1.0) if dl.FRAMEWORK == "mxnet" else _torch_gradients(1.0)
    for theta, error, match in ((0, ValueError, r"as a gradient norm > 0, got 0\."),
                                (-1.0, ValueError, r"as a gradient norm > 0, got -1.0\."),
                                (float("inf"), ValueError, r"as a finite gradient norm > 0, got inf"),
                                (True, TypeError, r"as a gradient norm > 0, got True \(bool\)")):
        with pytest.raises(error, match=rf"Expected `theta` {match}"):
            dl.sequence.grad_clipping(net, theta)
    with pytest.raises(TypeError, match="Expected `params` as a"):
        dl.sequence.grad_clipping([1, 2], 1.0)
    if dl.FRAMEWORK == "mxnet":
        for p in net.collect_params().values():
            p.grad_req = "null"
    else:
        net.requires_grad_(False)
    with pytest.raises(ValueError, match="No parameter in `params` has a gradient"):
        dl.sequence.grad_clipping(net, 1.0)


def test_torch_clipping_without_backward_is_an_error():
    from dlbook.torch.sequence import grad_clipping as torch_clipping

    with pytest.raises(ValueError, match="backward.. has not been called"):
        torch_clipping(nn.Linear(2, 2), 1.0)


def _trained_torch_lm(text, steps=150):
    from dlbook.torch.sequence import RNNModel as TorchRNN, SequenceBatches as TorchBatches
    from dlbook.torch.sequence import grad_clipping as torch_clipping

    vocab = Vocab(text)
    net = TorchRNN(len(vocab), num_hiddens=16, cell="gru", vocab_size=len(vocab))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    batches = TorchBatches(vocab.encode(text * 20), batch_size=4, num_steps=8, seed=0)
    step = 0
    while step < steps:
        state = net.begin_state(4)
        for X, Y in batches:
            state = [s.detach() for s in state]
            out, state = net(X, state)
            loss = nn.functional.cross_entropy(out.reshape(-1, len(vocab)), Y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch_clipping(net, 1.0)
            optimizer.step()
            step += 1
    return net, vocab


def test_a_trained_torch_model_continues_a_pattern():
    from dlbook.torch.sequence import predict_chars as torch_predict

    net, vocab = _trained_torch_lm("abcde")
    net.train()
    assert torch_predict(net, "ab", 8, vocab) == "abcdeabcde"
    assert net.training  # the mode is restored
    sampled = torch_predict(net, "c", 20, vocab, temperature=0.5, seed=1)
    assert sampled == torch_predict(net, "c", 20, vocab, temperature=0.5, seed=1)
    assert len(sampled) == 21 and "<unk>" not in sampled
    assert torch_predict(net, "abc", 0, vocab) == "abc"


def test_predict_chars_rejects_bad_arguments_alike(dl):
    vocab = Vocab("abc")
    net = _ready(dl, dl.sequence.RNNModel(len(vocab), num_hiddens=4, vocab_size=len(vocab)))
    cases = [
        (dict(prefix="", num_chars=3), ValueError, "non-empty `prefix`"),
        (dict(prefix=5, num_chars=3), TypeError, "`prefix` as a string"),
        (dict(prefix="a", num_chars=-1), ValueError, "`num_chars` >= 0"),
        (dict(prefix="a", num_chars=3, temperature=-1.0), ValueError, "`temperature` >= 0"),
        (dict(prefix="a", num_chars=3, vocab={"a": 1}), TypeError,
         rf"`vocab` to be a dlbook\.{dl.FRAMEWORK}\.sequence\.Vocab"),
        (dict(prefix="a", num_chars=3, vocab=Vocab("abcdefg")), ValueError, "vocab_size=4"),
    ]
    for kwargs, error, match in cases:
        kwargs = dict({"vocab": vocab}, **kwargs)
        with pytest.raises(error, match=match):
            dl.sequence.predict_chars(net, **kwargs)
    forecaster = _ready(dl, dl.sequence.RNNModel(1, num_hiddens=4))
    with pytest.raises(TypeError, match="Expected `net` to be a language model"):
        dl.sequence.predict_chars(forecaster, "a", 3, vocab)


def test_layers_reexport_the_core_sequence_tools(dl):
    for name in ("KJV_BOOKS", "make_windows", "Vocab", "load_kjv"):
        assert getattr(dl.sequence, name) is getattr(core, name)
    assert set(core.__all__) <= set(dl.sequence.__all__)


def test_the_sequence_modules_are_cut_by_concern():
    """The corpus reader (it shells out) and the layers' shared model/training code live apart."""
    import inspect

    import dlbook._kjv as kjv
    import dlbook._sequence_model as model
    import dlbook._sequence_train as train

    assert core.load_kjv is kjv.load_kjv and core.KJV_BOOKS is kjv.KJV_BOOKS
    assert core.load_kjv.__module__ == "dlbook.sequence"  # where the API pages and the book name it
    source = inspect.getsource(core)
    assert "subprocess" not in source and "RNNModel(" not in source
    for module in (model, train):  # framework-neutral, as the core is
        assert "mxnet" not in inspect.getsource(module).split('"""', 2)[2]
    assert isinstance(RNNModel(1, num_hiddens=2), model._StateKeeper)

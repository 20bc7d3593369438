"""Tests of the text tools: Korean text, vocabularies, tokenizers, skip-gram data and neighbours
(core, dlbook.text) and the SkipGram and EmbeddingRNN models (both layers).

Tests that take the ``dl`` fixture run for MXNet and PyTorch.
"""
import shutil
import subprocess
import sys

import mxnet as mx
import numpy as onp
import pytest
import torch

from dlbook import text as core


def _tensor(dl, values):
    values = onp.asarray(values)
    if dl.FRAMEWORK == "mxnet":
        return mx.np.array(values, dtype=values.dtype)
    return torch.as_tensor(values)


def _np(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array.detach().cpu().numpy()


@pytest.fixture(scope="module")
def constitution():
    return core.load_korean_text("constitution")


@pytest.fixture(scope="module")
def bills():
    return core.load_korean_text("bills")


# ------------------------------------------------------------ Korean text
def test_load_korean_text(constitution, bills):
    assert constitution.splitlines()[0] == "대한민국헌법"
    assert "제1조 ① 대한민국은 민주공화국이다." in constitution.splitlines()
    assert 15_000 < len(constitution) < 25_000
    assert len(bills) > 2 * len(constitution)
    assert "" not in constitution.splitlines()
    one = core.load_korean_text("1809890")
    assert one in bills and one.startswith("지방공무원법")


def test_load_korean_text_checks_sha256(tmp_path):
    corpus = core._konlpy_corpus()
    shutil.copytree(corpus / "kolaw", tmp_path / "kolaw")
    assert core.load_korean_text("constitution", root=tmp_path).startswith("대한민국헌법")
    path = tmp_path / "kolaw" / "constitution.txt"
    path.write_bytes(path.read_bytes().replace("민주공화국".encode(), "군주국가".encode()))
    with pytest.raises(ValueError, match=r"SHA-256 .* expected 69377a88c0e577b3.*konlpy==0\.6\.0"):
        core.load_korean_text("constitution", root=tmp_path)


def test_load_korean_text_missing_file_and_bad_source(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'kolaw/constitution.txt'.*konlpy==0\.6\.0"):
        core.load_korean_text("constitution", root=tmp_path)
    with pytest.raises(ValueError, match=r"Unknown `source` 'constitutoin'\. Did you mean "
                                         r"'constitution'\?"):
        core.load_korean_text("constitutoin")


def test_import_without_optional_packages():
    """`import dlbook` needs none of konlpy, sentencepiece, kiwipiepy; using them names the extra."""
    code = (
        "import sys\n"
        "for name in ('sentencepiece', 'kiwipiepy', 'konlpy'): sys.modules[name] = None\n"
        "import dlbook, dlbook.text as t\n"
        "for make in (lambda: t.get_tokenizer('bpe').fit('가 나 다'),\n"
        "             lambda: t.get_tokenizer('morpheme').tokenize('가 나')):\n"
        "    try:\n"
        "        make()\n"
        "    except ImportError as err:\n"
        "        assert 'dlbook[text]' in str(err), err\n"
        "        print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "ok"]


# ------------------------------------------------------------- vocabulary
def test_vocabulary_max_size_frequencies_unknown_rate():
    tokens = "a b a c a b d".split()
    vocab = core.Vocabulary(tokens, max_size=3)
    assert vocab.idx_to_token == ["<unk>", "a", "b"]
    assert vocab.frequencies().tolist() == [2, 3, 2]
    assert vocab.frequencies().sum() == len(tokens)
    assert vocab.unknown_rate(["a", "z", "c", "b"]) == 0.5
    with pytest.raises(ValueError, match="Expected `max_size` >= 2, got 1"):
        core.Vocabulary(tokens, max_size=1)
    with pytest.raises(ValueError, match="at least one token in `tokens`"):
        vocab.unknown_rate([])


# ------------------------------------------------------------- tokenizers
def test_word_and_syllable_tokenizers_round_trip(constitution):
    line = "대한민국은 민주공화국이다."
    assert " ".join(core.get_tokenizer("word")(line)) == line
    syllables = core.get_tokenizer("syllable").tokenize(line)
    assert "".join(syllables).replace("▁", " ") == line
    assert len(syllables) == len(line)
    tok = core.get_tokenizer("syllable").fit(constitution)
    assert tok.unknown_rate(constitution) == 0.0
    back = "".join(tok.vocab.idx_to_token[i] for i in tok.encode(line))
    assert back.replace("▁", " ") == line


@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
def test_sentencepiece_round_trip_and_unknown_rate(constitution, bills, model_type):
    tok = core.get_tokenizer(model_type, vocab_size=800).fit(bills)
    assert tok.name == model_type and len(tok.vocab) == 800 - 2  # <unk>, <s>, </s> -> one <unk>
    line = constitution.splitlines()[1]  # the preamble, one long sentence
    pieces = tok.tokenize(line)
    assert "".join(pieces).replace("▁", " ").strip() == line           # nothing lost
    assert len(pieces) < len(line)                                     # longer than characters
    syllable = core.get_tokenizer("syllable").fit(bills)
    rate = tok.unknown_rate(constitution)
    assert 0 < rate < 0.05, rate
    # The unknown pieces are exactly the characters never seen in training.
    unknown = {p for p in tok(constitution) if p not in tok.vocab}
    assert unknown and all(len(p.strip("▁")) == 1 for p in unknown)
    assert unknown <= {t for t in syllable(constitution) if t not in syllable.vocab} | {"▁"}
    again = core.get_tokenizer(model_type, vocab_size=800).fit(bills)
    assert again.tokenize(line) == pieces                              # deterministic training


def test_sentencepiece_errors(constitution):
    with pytest.raises(ValueError, match=r"`vocab_size=50000` does not suit this text"):
        core.get_tokenizer("unigram", vocab_size=50000).fit(constitution)
    with pytest.raises(RuntimeError, match=r"call `fit\(text\)`"):
        core.get_tokenizer("bpe").tokenize("가나")
    with pytest.raises(ValueError, match="Expected `vocab_size` >= 10, got 5"):
        core.get_tokenizer("bpe", vocab_size=5)
    with pytest.raises(ValueError, match=r"Expected `character_coverage` in \[0\.9, 1\.0\], got 2"):
        core.SentencePieceTokenizer(character_coverage=2)
    with pytest.raises(ValueError, match="Unknown `model_type` 'wordpiece'"):
        core.SentencePieceTokenizer("wordpiece")


def test_morpheme_tokenizer(constitution):
    tok = core.get_tokenizer("morpheme")
    tokens = tok.tokenize("대한민국은 민주공화국이다.")
    assert tokens[:2] == ["대한민국/NNP", "은/JX"]
    assert all("/" in t for t in tokens)
    forms = core.get_tokenizer("morpheme", tags=False).tokenize("모든 국민은 법 앞에 평등하다.")
    assert "국민" in forms and "평등" in forms
    tok.fit(constitution)
    assert tok.unknown_rate(constitution) == 0.0
    assert tok.unknown_rate("국민은 나라의 주인이다.") < 0.5


def test_tokenizer_errors():
    with pytest.raises(ValueError, match=r"Unknown tokenizer 'syllables'\. Did you mean 'syllable'\?"):
        core.get_tokenizer("syllables")
    with pytest.raises(TypeError, match=r"The 'word' tokenizer does not take the option\(s\) 'tags'"):
        core.get_tokenizer("word", tags=True)
    with pytest.raises(TypeError, match=r"The 'bpe' tokenizer does not take the option\(s\) "
                       r"'model_type'\. It takes: 'vocab_size', 'character_coverage'\. The name "
                       r"sets the model: get_tokenizer\('unigram'\) for the other one\.$"):
        core.get_tokenizer("bpe", model_type="unigram")
    with pytest.raises(TypeError, match=r"The 'unigram' tokenizer does not take the option\(s\) "
                       r"'min_freq', 'max_size'\. It takes: 'vocab_size', 'character_coverage'\.$"):
        core.get_tokenizer("unigram", vocab_size=100, min_freq=2, max_size=50)  # only the bad ones
    with pytest.raises(TypeError, match="Expected `text` as a string, got"):
        core.get_tokenizer("word").tokenize(["a", "b"])
    with pytest.raises(ValueError, match="Expected a non-empty `text`, got only whitespace"):
        core.get_tokenizer("syllable").tokenize("  \n")
    with pytest.raises(RuntimeError, match=r"no vocabulary yet: call `fit\(text\)`"):
        core.get_tokenizer("word").encode("a b")
    with pytest.raises(TypeError, match="Expected `keep_spaces` as True or False"):
        core.SyllableTokenizer(keep_spaces="yes")
    with pytest.raises(ValueError, match="Expected `min_freq` >= 1, got 0"):
        core.WordTokenizer(min_freq=0)


def test_english_words():
    assert core.english_words("And God said, Let there be light: and there was light.") == [
        "and", "god", "said", "let", "there", "be", "light", "and", "there", "was", "light"]


# ---------------------------------------------------------------- skip-gram
def test_skipgram_pairs_within_window():
    corpus = onp.arange(30)
    for window in (1, 2, 4):
        centers, contexts = core.skipgram_pairs(corpus, window=window)
        distance = onp.abs(centers - contexts)
        assert distance.min() == 1 and distance.max() == window
        # every ordered pair within the window, exactly once
        expected = {(i, j) for i in range(30) for j in range(30) if 0 < abs(i - j) <= window}
        assert set(zip(centers.tolist(), contexts.tolist())) == expected
        assert len(centers) == len(expected)
    centers, contexts = core.skipgram_pairs(corpus, window=5, dynamic=True, seed=0)
    distance = onp.abs(centers - contexts)
    assert distance.max() <= 5
    counts = onp.bincount(distance, minlength=6)[1:]
    assert all(a > b for a, b in zip(counts, counts[1:])), counts   # near pairs more often
    again = core.skipgram_pairs(corpus, window=5, dynamic=True, seed=0)
    assert (again[1] == contexts).all()


def test_skipgram_pairs_errors():
    with pytest.raises(ValueError, match="Expected `window` >= 1, got 0"):
        core.skipgram_pairs([1, 2, 3], window=0)
    with pytest.raises(ValueError, match=r"Expected token indices >= 0 in `corpus`, got -1"):
        core.skipgram_pairs([1, -1, 3])
    with pytest.raises(ValueError, match="integer token indices in `corpus`"):
        core.skipgram_pairs([0.5, 1.0])
    with pytest.raises(TypeError, match="Expected `dynamic` as True or False"):
        core.skipgram_pairs([1, 2, 3], dynamic=1)


def test_negative_sampler_distribution():
    counts = onp.array([0, 1000, 300, 50, 10, 1])
    sampler = core.NegativeSampler(counts, seed=0)
    expected = onp.where(counts > 0, counts ** 0.75, 0) / (counts ** 0.75).sum()
    assert onp.allclose(sampler.probabilities, expected)
    draws = sampler.sample(200_000)
    observed = onp.bincount(draws, minlength=len(counts)) / draws.size
    assert observed[0] == 0                                   # a weight of 0 is never drawn
    # within 5 standard errors of the expected shares
    se = onp.sqrt(expected * (1 - expected) / draws.size)
    assert (onp.abs(observed - expected) <= 5 * se + 1e-12).all(), (observed, expected)
    # rarer words get more than their frequency: the power flattens the distribution
    assert expected[5] > counts[5] / counts.sum()
    assert (core.NegativeSampler(counts, seed=3).sample(50) ==
            core.NegativeSampler(counts, seed=3).sample(50)).all()
    uniform = core.NegativeSampler(counts, power=0, seed=0).probabilities
    assert onp.allclose(uniform[1:], 0.2)


def test_negative_sampler_errors():
    with pytest.raises(ValueError, match=r"Expected `weights` >= 0 with a positive sum"):
        core.NegativeSampler([1, -2, 3])
    with pytest.raises(ValueError, match=r"Expected `power` in \[0, 1\], got 2"):
        core.NegativeSampler([1, 2], power=2)


def _toy_corpus():
    tokens = ("the cat sat on the mat and the dog sat on the log " * 20).split()
    vocab = core.Vocabulary(tokens)
    return tokens, vocab


def test_skipgram_batches_shapes_and_labels():
    tokens, vocab = _toy_corpus()
    batches = core.SkipGramBatches(vocab.encode(tokens), vocab, window=2, num_negatives=4,
                                   batch_size=32, subsample=None, seed=0)
    n = len(batches)
    rows = list(batches)
    assert len(rows) == n
    total = sum(len(X) for X, _ in rows)
    assert len(tokens) < total <= len(core.skipgram_pairs(vocab.encode(tokens), window=2)[0])
    for X, Y in rows[:-1]:
        assert X.shape == (32, 6) and X.dtype == onp.int32
        assert Y.shape == (32, 5) and Y.dtype == onp.float32
        assert (Y[:, 0] == 1).all() and (Y[:, 1:] == 0).all()
    X = onp.concatenate([X for X, _ in rows])
    assert (X[:, :2] != vocab.unk).all() and (X[:, 2:] != vocab.unk).all()
    assert (X[:, 0] != X[:, 1]).any()
    # every (center, context) pair is one of the corpus, within the window
    allowed = set(zip(*[a.tolist() for a in core.skipgram_pairs(vocab.encode(tokens), window=2)]))
    assert set(zip(X[:, 0].tolist(), X[:, 1].tolist())) <= allowed
    # a new epoch draws new pairs
    assert not onp.array_equal(rows[0][0], next(iter(batches))[0])


def test_skipgram_batches_subsampling():
    tokens, vocab = _toy_corpus()
    batches = core.SkipGramBatches(vocab.encode(tokens), vocab, subsample=1e-2, seed=0)
    keep = batches.keep_probabilities
    assert keep[vocab.unk] == 0
    assert keep[vocab["the"]] < keep[vocab["cat"]] <= 1.0   # frequent words are thinned out
    share = vocab.frequencies()[vocab["the"]] / len(tokens)
    assert keep[vocab["the"]] == pytest.approx(onp.sqrt(1e-2 / share))


def test_skipgram_batches_errors():
    tokens, vocab = _toy_corpus()
    corpus = vocab.encode(tokens)
    with pytest.raises(ValueError, match=r"Vocabulary mismatch: `corpus` holds the index 20"):
        core.SkipGramBatches(onp.array([1, 2, 20]), vocab)
    with pytest.raises(TypeError, match="Expected `vocab` as a dlbook Vocabulary"):
        core.SkipGramBatches(corpus, {"the": 1})
    with pytest.raises(ValueError, match="Expected `num_negatives` >= 1, got 0"):
        core.SkipGramBatches(corpus, vocab, num_negatives=0)
    with pytest.raises(ValueError, match=r"Expected `subsample` in \(0, 1\) or None, got 2"):
        core.SkipGramBatches(corpus, vocab, subsample=2)
    with pytest.raises(ValueError, match="only the unknown token"):
        core.SkipGramBatches([0, 0, 0], vocab)


# ---------------------------------------------------------------- neighbours
def test_cosine_similarity():
    assert core.cosine_similarity([1, 0], [0, 3]) == 0.0
    assert core.cosine_similarity([2, 2], [1, 1]) == pytest.approx(1.0)
    S = core.cosine_similarity(onp.eye(3), onp.ones((2, 3)))
    assert S.shape == (3, 2) and onp.allclose(S, 1 / onp.sqrt(3))
    with pytest.raises(ValueError, match=r"same vector length, got shapes \(2,\) and \(3,\)"):
        core.cosine_similarity([1, 0], [1, 0, 0])


def test_nearest_neighbors():
    vocab = core.Vocabulary(["a", "b", "c", "d"])
    E = onp.array([[9, 9], [1, 0], [0.9, 0.1], [0, 1], [-1, 0]])   # <unk> points anywhere
    near = core.nearest_neighbors(E, vocab, "a", k=3)
    assert [t for t, _ in near] == ["b", "c", "d"]
    assert near[0][1] == pytest.approx(core.cosine_similarity(E[1], E[2]))
    assert all(s1 >= s2 for (_, s1), (_, s2) in zip(near, near[1:]))
    with pytest.raises(ValueError, match=r"Vocabulary mismatch: `vocab` has 5 tokens but "
                                         r"`embeddings` has 4 rows"):
        core.nearest_neighbors(E[:4], vocab, "a")
    with pytest.raises(ValueError, match=r"'e' is not in the vocabulary"):
        core.nearest_neighbors(E, vocab, "e")
    with pytest.raises(ValueError, match="Expected `k` <= 3, got 4"):
        core.nearest_neighbors(E, vocab, "a", k=4)


# ------------------------------------------------------------ both layers
def test_layers_offer_the_core_names(dl):
    for name in core.__all__:
        assert hasattr(dl.text, name), name
    assert dl.text.load_korean_text is core.load_korean_text
    assert issubclass(dl.text.SkipGramBatches, core.SkipGramBatches)


def test_skipgram_batches_as_tensors(dl):
    tokens, vocab = _toy_corpus()
    batches = dl.text.SkipGramBatches(vocab.encode(tokens), vocab, window=2, num_negatives=3,
                                      batch_size=16, subsample=None, seed=0)
    X, Y = next(iter(batches))
    assert tuple(X.shape) == (16, 5) and tuple(Y.shape) == (16, 4)
    assert "int" in str(X.dtype) and "float32" in str(Y.dtype)


def test_skipgram_model_scores_and_learns(dl):
    dl.setup(seed=0)
    tokens, vocab = _toy_corpus()
    net = dl.text.SkipGram(len(vocab), 8)
    if dl.FRAMEWORK == "mxnet":
        net.initialize()
    X = onp.array([[1, 2, 3, 4], [5, 6, 7, 1]], dtype="int64")
    scores = _np(net(_tensor(dl, X)))
    assert scores.shape == (2, 3)
    assert onp.allclose(scores, 0)          # the context vectors start at zero
    E = net.embeddings()
    assert E.shape == (len(vocab), 8) and onp.abs(E).max() <= 0.5 / 8
    batches = dl.text.SkipGramBatches(vocab.encode(tokens), vocab, window=2, num_negatives=3,
                                      batch_size=64, subsample=None, seed=0)
    trainer = dl.Trainer(net, loss="binary_cross_entropy", optimizer="adam", learning_rate=0.05)
    history = trainer.fit(batches, epochs=8, verbose=False)
    # Scores of 0 give log 2 = 0.693 per score; training separates contexts from negatives.
    assert history["loss"][-1] < 0.55 < onp.log(2), history["loss"]
    assert history["loss"][-1] < history["loss"][0]


def test_skipgram_model_errors(dl):
    net = dl.text.SkipGram(10, 4)
    if dl.FRAMEWORK == "mxnet":
        net.initialize()
    with pytest.raises(ValueError, match=r"Vocabulary mismatch: `X` holds token indices from 1 "
                                         r"to 12, but the model was built for vocab_size=10"):
        net(_tensor(dl, onp.array([[1, 12]])))
    with pytest.raises(ValueError, match=r"Expected `X` with 2 dimensions and at least 2 columns"):
        net(_tensor(dl, onp.array([1, 2])))
    with pytest.raises(TypeError, match="Expected `X` as"):
        net(onp.array([[1, 2]]))
    with pytest.raises(ValueError, match="Expected `embedding_dim` >= 1, got 0"):
        dl.text.SkipGram(10, 0)


def test_embedding_rnn(dl):
    dl.setup(seed=0)
    V, d, h = 12, 5, 7
    lm = dl.text.EmbeddingRNN(V, d, num_hiddens=h)
    onehot = dl.sequence.RNNModel(V, num_hiddens=h, vocab_size=V)
    for net in (lm, onehot):
        if dl.FRAMEWORK == "mxnet":
            net.initialize()
    X = _tensor(dl, onp.array([[1, 2, 3], [4, 5, 6]], dtype="int64"))
    assert _np(lm(X)).shape == (2, 3, V)
    assert _np(onehot(X)).shape == (2, 3, V)
    # input weights V*d + 4h*d instead of 4h*V; the rest is the same
    extra = dl.count_parameters(lm) - dl.count_parameters(onehot)
    assert extra == V * d + 4 * h * d - 4 * h * V
    with pytest.raises(ValueError, match="Vocabulary mismatch: `X` holds token indices from 1 to 12"):
        lm(_tensor(dl, onp.array([[1, 12]], dtype="int64")))
    with pytest.raises(ValueError, match="Expected `embedding_dim` >= 1, got 0"):
        dl.text.EmbeddingRNN(V, 0)


def test_embedding_lookup_is_one_hot_times_matrix(dl):
    dl.setup(seed=0)
    lm = dl.text.EmbeddingRNN(6, 3, num_hiddens=4)
    if dl.FRAMEWORK == "mxnet":
        lm.initialize()
        W = lm.embedding.weight.data().asnumpy()
        looked_up = lm.embedding(mx.np.array([2, 5, 0], dtype="int32")).asnumpy()
    else:
        W = lm.embedding.weight.detach().numpy()
        looked_up = lm.embedding(torch.tensor([2, 5, 0])).detach().numpy()
    onehot = onp.eye(6)[[2, 5, 0]]
    assert onp.allclose(looked_up, onehot @ W, atol=1e-6)

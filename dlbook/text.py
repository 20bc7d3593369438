"""Text without a framework: Korean text, tokenizers, vocabularies, skip-gram data, neighbours.

The NumPy half of the chapter on embeddings and tokenization, shared by both
framework layers (``dl.text`` offers every name of this module):

* :func:`load_korean_text` reads real Korean prose that the ``konlpy`` wheel
  ships as data (the Constitution of the Republic of Korea and ten bills of
  the National Assembly), checking each file's SHA-256;
* :class:`Vocabulary` maps tokens to indices with an unknown token, counts
  frequencies and measures unknown-token rates;
* :func:`get_tokenizer` gives tokenizers with one interface (``fit``,
  ``tokenize``, ``encode``, ``unknown_rate``): whitespace words, characters
  (Hangul syllables), subwords learned by ``sentencepiece`` (BPE or unigram)
  and morphemes from the analyzer ``kiwipiepy``;
* :func:`skipgram_pairs`, :class:`NegativeSampler` and :class:`SkipGramBatches`
  make the training data of skip-gram with negative sampling (word2vec) from a
  seeded ``numpy.random.Generator``;
* :func:`cosine_similarity` and :func:`nearest_neighbors` read trained vectors.

The models (``SkipGram``, ``EmbeddingRNN``) and the batches as tensors live
in :mod:`dlbook.mxnet.text` and :mod:`dlbook.torch.text`.
"""
import difflib
import functools
import hashlib
import importlib.util
import io
import inspect
import math
import numbers
import re
import warnings
from pathlib import Path

import numpy as onp

from ._checks import check_bool, check_choice, check_int, check_path, describe, to_numpy
from .sequence import Vocab, _host

__all__ = [
    "KOREAN_SOURCES",
    "TOKENIZERS",
    "load_korean_text",
    "Vocabulary",
    "Tokenizer",
    "WordTokenizer",
    "SyllableTokenizer",
    "SentencePieceTokenizer",
    "MorphemeTokenizer",
    "get_tokenizer",
    "english_words",
    "skipgram_pairs",
    "NegativeSampler",
    "SkipGramBatches",
    "cosine_similarity",
    "nearest_neighbors",
]

# ------------------------------------------------------------ Korean text
#: SHA-256 of the text files of konlpy 0.6.0 that :func:`load_korean_text` reads, by path
#: below ``konlpy/data/corpus``.
_KONLPY_FILES = {
    "kolaw/constitution.txt": "69377a88c0e577b37b1373f4496147e995209d5139a993633a8a2776bc0e2ca8",
    "kobill/1809890.txt": "1329ddfc4ff032537434655fec37308c8568f930116c3c9d41c85a42d0647964",
    "kobill/1809891.txt": "581e29cf0c23a7a2996c8a82294c4679bcf280fabdb3fb13562c8a6275f78997",
    "kobill/1809892.txt": "bf6e04e21d0290567d4a004f702be7707487dce56ad1b0ea1719974afccc2c9a",
    "kobill/1809893.txt": "71cd8fe14d773cde18c1f7a174643ea68fa5abbf37a489d3061b2aebe6f10ab4",
    "kobill/1809894.txt": "68d8a5f46dd80d51e8c77af81ef3098dfabba937a50465a6850a2a204d72b786",
    "kobill/1809895.txt": "e8c8ac94dcc3cdd61f797ae44eb009837b5fee65d350f433cb312021b0fca3d4",
    "kobill/1809896.txt": "0bf889e12a2c27aa1eb08d1fb62a8c7ce7b1f55823fa5fb43a2f990ef39e4752",
    "kobill/1809897.txt": "afb9a083b8f1cdc15f1c6e963dd5f2f34552e8a51c2b98a0c148eb1a3b840e1f",
    "kobill/1809898.txt": "766ad881fe50a957dbe2e979bd41e0fdb1266a2f532e85e737be70d1e2ec90ee",
    "kobill/1809899.txt": "a0c17e4161cc7e46133009785bd906148be6e64412564fe3967cc2d377a661e9",
}

_BILLS = tuple(p.split("/")[1][:-4] for p in _KONLPY_FILES if p.startswith("kobill/"))

#: The texts :func:`load_korean_text` reads: a source name (or a bill's number, e.g.
#: ``'1809890'``) and the files behind it.
KOREAN_SOURCES = {
    "constitution": ("kolaw/constitution.txt",),
    "bills": tuple(f"kobill/{b}.txt" for b in _BILLS),
    **{b: (f"kobill/{b}.txt",) for b in _BILLS},
}


def _konlpy_corpus():
    """The folder ``konlpy/data/corpus`` of the installed wheel, found without importing konlpy.

    Importing ``konlpy`` would load its Java bridge; only its data files are needed.
    """
    spec = importlib.util.find_spec("konlpy")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The Korean texts come from the data files of the `konlpy` package, which is not "
            "installed. Install it with `pip install konlpy` (or `pip install \"dlbook[text]\"`); "
            "Java is not needed, since only its text files are read.")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "corpus"


def _read_checked(root, relative):
    path = root / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"Expected the text file {relative!r} below {str(root)!r}, but it is missing. "
            "It comes with the `konlpy` wheel (version 0.6.0): reinstall it with "
            "`pip install --force-reinstall konlpy==0.6.0`.")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != _KONLPY_FILES[relative]:
        raise ValueError(
            f"The file {str(path)!r} has SHA-256 {digest[:16]}..., expected "
            f"{_KONLPY_FILES[relative][:16]}... (konlpy 0.6.0). The file changed or another "
            "konlpy version is installed; install konlpy==0.6.0.")
    return data.decode("utf-8")


def load_korean_text(source="constitution", root=None):
    """Read real Korean prose shipped as data by the ``konlpy`` wheel, checked by SHA-256.

    ``'constitution'`` is the Constitution of the Republic of Korea (대한민국헌법,
    as amended in 1987), ``'bills'`` the ten bills of the 18th National Assembly
    (2010) that konlpy includes, and a bill's number (e.g. ``'1809890'``) one of
    them. Laws and the like are not protected works under Article 7 of the
    Korean Copyright Act. konlpy itself is licensed under the GPL v3; its Java
    parts are never imported (only its text files are read). Lines are stripped
    and empty lines dropped; several files are joined with ``'\\n'``.

    Parameters
    ----------
    source : str, default 'constitution'
        A key of :data:`KOREAN_SOURCES`.
    root : str or pathlib.Path, optional
        A folder holding ``kolaw/`` and ``kobill/`` as konlpy's ``data/corpus``
        does. Default: the installed konlpy's.

    Returns
    -------
    str

    Raises
    ------
    FileNotFoundError
        If konlpy (or a file of it) is missing; the message says what to install.
    ValueError
        For an unknown ``source``, or a file whose checksum differs.

    Examples
    --------
    >>> from dlbook.text import load_korean_text
    >>> constitution = load_korean_text("constitution")
    >>> constitution.splitlines()[0]
    '대한민국헌법'
    >>> [line for line in constitution.splitlines() if line.startswith("제1조")][0]
    '제1조 ① 대한민국은 민주공화국이다.'
    >>> load_korean_text("1809890").splitlines()[0]
    '지방공무원법 일부개정법률안'
    """
    if not isinstance(source, str) or source not in KOREAN_SOURCES:
        close = difflib.get_close_matches(str(source), list(KOREAN_SOURCES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown `source` {source!r}.{hint} Expected 'constitution', 'bills' "
                         f"or one bill's number, '{_BILLS[0]}' to '{_BILLS[-1]}'.")
    folder = _konlpy_corpus() if root is None else check_path("root", root)
    texts = [_read_checked(folder, relative) for relative in KOREAN_SOURCES[source]]
    lines = [line.strip() for text in texts for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


# ------------------------------------------------------------- vocabulary
def _check_text(text, name="text"):
    if not isinstance(text, str):
        raise TypeError(f"Expected `{name}` as a string, got {describe(text)}.")
    if not text.strip():
        got = "an empty string" if not text else "only whitespace"
        raise ValueError(f"Expected a non-empty `{name}`, got {got}.")
    return text


class Vocabulary(Vocab):
    """Map tokens to indices, with an unknown token at index 0: :class:`dlbook.sequence.Vocab` plus.

    On top of ``Vocab`` (the most frequent tokens first, ties in alphabetical
    order, ``encode``/``decode``), it can keep only the ``max_size`` most
    frequent entries, count how often each index occurs
    (:meth:`frequencies`) and measure how many tokens of a text it does not
    know (:meth:`unknown_rate`). The book introduces it in the chapter on
    embeddings and tokenization.

    Parameters
    ----------
    tokens : iterable of str, or str
        The training tokens (e.g. a tokenizer's output); a string makes a
        character vocabulary, as for ``Vocab``.
    min_freq : int, default 1
        Tokens seen fewer times become the unknown token.
    max_size : int, optional
        At most this many entries, the unknown token included.
    unknown : str, default '<unk>'

    Examples
    --------
    >>> from dlbook.text import Vocabulary
    >>> vocab = Vocabulary("the cat and the dog and the bird".split(), max_size=4)
    >>> vocab.idx_to_token  # '<unk>', then the 3 most frequent
    ['<unk>', 'the', 'and', 'bird']
    >>> vocab.encode(["the", "cat"]).tolist()
    [1, 0]
    >>> vocab.frequencies().tolist()  # counts in the training tokens; cat and dog became <unk>
    [2, 3, 2, 1]
    >>> vocab.unknown_rate(["the", "fish", "and", "cat"])
    0.5
    """

    def __init__(self, tokens, min_freq=1, max_size=None, unknown="<unk>"):
        if isinstance(tokens, str):
            if not tokens:
                raise ValueError("Expected non-empty `tokens`, got an empty text.")
        elif hasattr(tokens, "__iter__") and not isinstance(tokens, (bytes, dict)):
            tokens = list(tokens)
        super().__init__(tokens, min_freq=min_freq, unknown=unknown)
        if max_size is not None:
            self.max_size = check_int("max_size", max_size, minimum=2)
            self.idx_to_token = self.idx_to_token[:self.max_size]
            self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}
        else:
            self.max_size = None

    def frequencies(self):
        """How often each index occurs in the training tokens (index 0: all unknown ones).

        Returns
        -------
        numpy.ndarray of int64, shape (len(vocab),)
        """
        counts = onp.zeros(len(self), dtype="int64")
        for token, count in self.counts.items():
            counts[self.token_to_idx.get(token, self.unk)] += count
        return counts

    def unknown_rate(self, tokens):
        """The share of ``tokens`` (a list, or a string split as ``encode`` does) this vocabulary lacks.

        Raises
        ------
        ValueError
            If there are no tokens.
        """
        ids = self.encode(tokens)
        if ids.size == 0:
            raise ValueError("Expected at least one token in `tokens`, got none.")
        return float(onp.mean(ids == self.unk))

    def __repr__(self):
        return f"Vocabulary(size={len(self)}, unknown={self.unknown!r})"


def _check_vocab_size(vocab, size, what):
    """Raise the vocabulary-mismatch error when ``size`` (of ``what``) differs from ``len(vocab)``.

    >>> _check_vocab_size(Vocabulary(["a", "b"]), 4, "`embeddings` has {} rows")
    Traceback (most recent call last):
    ...
    ValueError: Vocabulary mismatch: `vocab` has 3 tokens but `embeddings` has 4 rows. Use the vocabulary that the embeddings or the indices were made with.
    """
    if not isinstance(vocab, Vocab):
        raise TypeError(f"Expected `vocab` as a dlbook Vocabulary, got {describe(vocab)}.")
    if int(size) != len(vocab):
        raise ValueError(
            f"Vocabulary mismatch: `vocab` has {len(vocab)} tokens but {what.format(int(size))}. "
            "Use the vocabulary that the embeddings or the indices were made with.")


# ------------------------------------------------------------- tokenizers
class Tokenizer:
    """What every tokenizer of :func:`get_tokenizer` offers: fit, tokenize, encode, unknown_rate.

    ``tokenize(text)`` splits a string into a list of string tokens;
    ``fit(text)`` builds :attr:`vocab` (a :class:`Vocabulary`) from the tokens of
    a training text (a subword tokenizer first learns its pieces there);
    ``encode(text)`` gives the indices and ``unknown_rate(text)`` the share of
    tokens the vocabulary lacks. A tokenizer is also callable: ``tok(text)`` is
    ``tok.tokenize(text)``.

    Parameters
    ----------
    min_freq : int, default 1
        ``fit`` keeps tokens seen at least this often.
    max_size : int, optional
        ``fit`` keeps at most this many entries (the unknown token included).

    Examples
    --------
    >>> from dlbook.text import get_tokenizer
    >>> tok = get_tokenizer("word").fit("the cat and the dog")
    >>> tok("the cat sat"), tok.encode("the cat sat").tolist()
    (['the', 'cat', 'sat'], [1, 3, 0])
    >>> round(tok.unknown_rate("the cat sat"), 3)
    0.333
    """

    #: The name :func:`get_tokenizer` knows this tokenizer by.
    name = None

    def __init__(self, min_freq=1, max_size=None):
        self.min_freq = check_int("min_freq", min_freq, minimum=1)
        self.max_size = None if max_size is None else check_int("max_size", max_size, minimum=2)
        self._vocab = None

    def _split(self, text):  # the tokenizer's work on a checked, non-empty string
        raise NotImplementedError

    def tokenize(self, text):
        """The tokens of ``text`` (a non-empty string), as a list of strings."""
        return self._split(_check_text(text))

    __call__ = tokenize

    def fit(self, text):
        """Build :attr:`vocab` from the tokens of ``text``; returns the tokenizer."""
        self._vocab = Vocabulary(self.tokenize(text), min_freq=self.min_freq,
                                 max_size=self.max_size)
        return self

    @property
    def vocab(self):
        """The :class:`Vocabulary` that :meth:`fit` built."""
        if self._vocab is None:
            raise RuntimeError(f"The {self.name!r} tokenizer has no vocabulary yet: call "
                               "`fit(text)` with a training text first.")
        return self._vocab

    def encode(self, text):
        """The indices of the tokens of ``text`` in :attr:`vocab` (unknown ones as 0)."""
        return self.vocab.encode(self.tokenize(text))

    def unknown_rate(self, text):
        """The share of the tokens of ``text`` that :attr:`vocab` does not know."""
        return self.vocab.unknown_rate(self.tokenize(text))

    def __repr__(self):
        size = "unfitted" if self._vocab is None else f"vocab size {len(self._vocab)}"
        return f"{type(self).__name__}(name={self.name!r}, {size})"


class WordTokenizer(Tokenizer):
    """Split on whitespace: for Korean, one token per 어절 (eojeol, a spaced word with its endings).

    Parameters
    ----------
    min_freq : int, default 1
        ``fit`` keeps tokens seen at least this often (at least 1).
    max_size : int, optional
        ``fit`` keeps at most this many entries (the unknown token included; at
        least 2). By default every token seen ``min_freq`` times.

    Examples
    --------
    >>> from dlbook.text import WordTokenizer
    >>> WordTokenizer().tokenize("대한민국은 민주공화국이다.")
    ['대한민국은', '민주공화국이다.']
    """

    name = "word"

    def _split(self, text):
        return text.split()


class SyllableTokenizer(Tokenizer):
    """One token per character: for Hangul, one per syllable block (음절), e.g. '한', '국'.

    Parameters
    ----------
    keep_spaces : bool, default True
        Each run of whitespace becomes the token ``'▁'`` (as sentencepiece marks
        spaces), so the text can be put back together; False drops it.
    min_freq, max_size : see :class:`Tokenizer`.

    Examples
    --------
    >>> from dlbook.text import SyllableTokenizer
    >>> SyllableTokenizer().tokenize("대한민국은  민주")
    ['대', '한', '민', '국', '은', '▁', '민', '주']
    >>> SyllableTokenizer(keep_spaces=False).fit("가나 다").vocab.idx_to_token
    ['<unk>', '가', '나', '다']
    """

    name = "syllable"

    def __init__(self, keep_spaces=True, min_freq=1, max_size=None):
        super().__init__(min_freq=min_freq, max_size=max_size)
        check_bool("keep_spaces", keep_spaces)
        self.keep_spaces = keep_spaces

    def _split(self, text):
        text = " ".join(text.split())
        if self.keep_spaces:
            return ["▁" if ch == " " else ch for ch in text]
        return [ch for ch in text if ch != " "]


@functools.lru_cache(maxsize=1)
def _sentencepiece():
    try:
        import sentencepiece
    except ImportError as err:
        raise ImportError(
            "The subword tokenizers need the `sentencepiece` package: `pip install "
            "sentencepiece` (or `pip install \"dlbook[text]\"`).") from err
    return sentencepiece


class SentencePieceTokenizer(Tokenizer):
    """Subwords learned from a text by ``sentencepiece``: BPE merges or a unigram language model.

    :meth:`fit` trains the model on the lines of the text (in memory, one
    thread, no normalization, so the pieces are the text's own characters and
    the result is the same on every run) and takes the model's pieces as
    :attr:`vocab`: a subword vocabulary is fixed by training, not counted.
    ``'▁'`` marks the start of a spaced word. A character never seen in
    training comes out as its own piece, which the vocabulary maps to the
    unknown token.

    Parameters
    ----------
    model_type : {'bpe', 'unigram'}, default 'bpe'
    vocab_size : int, default 2000
        The number of pieces, including sentencepiece's ``<unk>``, ``<s>``, ``</s>``.
    character_coverage : float, default 1.0
        The share of the training characters the pieces must cover (the rest
        become unknown).

    Examples
    --------
    >>> from dlbook.text import SentencePieceTokenizer, load_korean_text
    >>> bpe = SentencePieceTokenizer("bpe", vocab_size=1000).fit(load_korean_text())
    >>> bpe.tokenize("대한민국은 민주공화국이다.")
    ['▁대한민국', '은', '▁민주', '공', '화', '국', '이', '다', '.']
    >>> len(bpe.vocab)  # the model's pieces, its three special ones as one '<unk>'
    998
    """

    name = "bpe"

    def __init__(self, model_type="bpe", vocab_size=2000, character_coverage=1.0):
        super().__init__()
        self.model_type = check_choice("model_type", model_type, {"bpe", "unigram"})
        self.name = self.model_type
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=10)
        if isinstance(character_coverage, bool) or not isinstance(character_coverage, numbers.Real) \
                or not 0.9 <= character_coverage <= 1.0:
            raise ValueError(f"Expected `character_coverage` in [0.9, 1.0], got {character_coverage!r}.")
        self.character_coverage = float(character_coverage)
        self.processor = None

    def fit(self, text):
        """Train the sentencepiece model on the lines of ``text``; returns the tokenizer.

        Raises
        ------
        ValueError
            If ``vocab_size`` does not suit the text (fewer pieces than the
            text's distinct characters need, or more than it can give).
        """
        lines = [line for line in _check_text(text).splitlines() if line.strip()]
        spm = _sentencepiece()
        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines), model_writer=model, vocab_size=self.vocab_size,
                model_type=self.model_type, character_coverage=self.character_coverage,
                normalization_rule_name="identity", num_threads=1, minloglevel=2)
        except RuntimeError as err:
            message = str(err)
            found = re.search(r"(\d+) vs (\d+)", message) or re.search(r"<= (\d+)", message)
            detail = f" sentencepiece says: {message.strip().splitlines()[-1][:200]}"
            raise ValueError(
                f"`vocab_size={self.vocab_size}` does not suit this text for a "
                f"{self.model_type!r} model.{detail}" if found else
                f"sentencepiece could not train a {self.model_type!r} model: {message[:300]}"
            ) from err
        self.processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
        sp = self.processor
        pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())
                  if not (sp.is_control(i) or sp.is_unknown(i))]
        self._vocab = Vocabulary(pieces)
        return self

    def _split(self, text):
        if self.processor is None:
            raise RuntimeError(f"The {self.name!r} tokenizer has not learned its pieces yet: "
                               "call `fit(text)` with a training text first.")
        return [piece for line in text.splitlines() if line.strip()
                for piece in self.processor.encode(line, out_type=str)]


@functools.lru_cache(maxsize=1)
def _kiwi():
    """One Kiwi analyzer per process (loading its model takes about a second)."""
    try:
        from kiwipiepy import Kiwi
    except ImportError as err:
        raise ImportError(
            "The morpheme tokenizer needs the `kiwipiepy` package, whose model comes as "
            "`kiwipiepy_model`: `pip install kiwipiepy` (or `pip install \"dlbook[text]\"`)."
        ) from err
    with warnings.catch_warnings():
        # num_workers=0 is one thread (kiwipiepy >= 0.21 warns that its meaning changed).
        warnings.simplefilter("ignore", DeprecationWarning)
        return Kiwi(num_workers=0)


class MorphemeTokenizer(Tokenizer):
    """Morphemes found by the Korean analyzer Kiwi (``kiwipiepy``), e.g. '대한민국/NNP', '은/JX'.

    Kiwi splits each spaced word into its stems, particles and endings and
    tags each with its part of speech (Sejong tag set: NNG common noun, NNP
    proper noun, JX/JKS/... particles, EF/EC/ETM... endings, XSV/XSA
    suffixes). Its model ships as the ``kiwipiepy_model`` package: nothing is
    downloaded. Spaces are dropped. An ending that Kiwi splits off inside a
    syllable (the ㄴ of 정한다) is written with a compatibility jamo (ㄴ,
    U+3134), which every Korean font has, not with the conjoining final
    consonant U+11AB that many fonts lack.

    Parameters
    ----------
    tags : bool, default True
        Tokens as ``'form/TAG'``, which tells homographs apart (``'이/VCP'``
        the copula, ``'이/JKS'`` the subject particle); False: the form only.
    min_freq, max_size : see :class:`Tokenizer`.

    Examples
    --------
    >>> from dlbook.text import MorphemeTokenizer
    >>> MorphemeTokenizer().tokenize("대한민국은 민주공화국이다.")
    ['대한민국/NNP', '은/JX', '민주/NNG', '공화국/NNG', '이/VCP', '다/EF', './SF']
    >>> MorphemeTokenizer(tags=False).tokenize("법률로 정한다")
    ['법률', '로', '정하', 'ㄴ다']
    """

    name = "morpheme"

    def __init__(self, tags=True, min_freq=1, max_size=None):
        super().__init__(min_freq=min_freq, max_size=max_size)
        check_bool("tags", tags)
        self.tags = tags

    def _split(self, text):
        kiwi = _kiwi()
        analyzed = [kiwi.tokenize(line, compatible_jamo=True)
                    for line in text.splitlines() if line.strip()]
        if self.tags:
            return [f"{t.form}/{t.tag}" for sentence in analyzed for t in sentence]
        return [t.form for sentence in analyzed for t in sentence]


_TOKENIZERS = {
    "word": WordTokenizer,
    "syllable": SyllableTokenizer,
    "bpe": functools.partial(SentencePieceTokenizer, "bpe"),
    "unigram": functools.partial(SentencePieceTokenizer, "unigram"),
    "morpheme": MorphemeTokenizer,
}

#: The names :func:`get_tokenizer` takes.
TOKENIZERS = tuple(_TOKENIZERS)


def get_tokenizer(name, **options):
    """A tokenizer by name: ``'word'``, ``'syllable'``, ``'bpe'``, ``'unigram'`` or ``'morpheme'``.

    All have the interface of :class:`Tokenizer`. ``options`` go to the
    class: :class:`WordTokenizer`, :class:`SyllableTokenizer`,
    :class:`SentencePieceTokenizer` (``vocab_size``, ``character_coverage``) or
    :class:`MorphemeTokenizer` (``tags``).

    Parameters
    ----------
    name : {'word', 'syllable', 'bpe', 'unigram', 'morpheme'}
        The tokenizer (:data:`TOKENIZERS`).
    **options
        Arguments of its class: ``min_freq`` and ``max_size`` for ``'word'``,
        ``'syllable'`` and ``'morpheme'``, with ``keep_spaces`` (``'syllable'``)
        or ``tags`` (``'morpheme'``); ``vocab_size`` and ``character_coverage``
        for ``'bpe'`` and ``'unigram'``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the names).
    TypeError
        For an option the tokenizer does not take (the message names it and
        the options it takes), e.g. ``min_freq`` for ``'bpe'``, or
        ``model_type``, which the name sets.

    Examples
    --------
    >>> from dlbook.text import get_tokenizer
    >>> get_tokenizer("syllable").tokenize("한국어")
    ['한', '국', '어']
    >>> get_tokenizer("morphemes")
    Traceback (most recent call last):
    ...
    ValueError: Unknown tokenizer 'morphemes'. Did you mean 'morpheme'? Expected one of: 'word', 'syllable', 'bpe', 'unigram', 'morpheme'.
    """
    if not isinstance(name, str) or name not in _TOKENIZERS:
        close = difflib.get_close_matches(str(name), TOKENIZERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown tokenizer {name!r}.{hint} Expected one of: "
                         f"{', '.join(repr(n) for n in TOKENIZERS)}.")
    make = _TOKENIZERS[name]
    takes = list(inspect.signature(make).parameters)
    refused = [key for key in options if key not in takes]
    if refused:
        hint = ""
        if "model_type" in refused and name in ("bpe", "unigram"):
            other = "unigram" if name == "bpe" else "bpe"
            hint = f" The name sets the model: get_tokenizer({other!r}) for the other one."
        raise TypeError(f"The {name!r} tokenizer does not take the option(s) "
                        f"{', '.join(map(repr, refused))}. It takes: "
                        f"{', '.join(map(repr, takes))}.{hint}")
    return make(**options)


_ENGLISH_WORD = re.compile(r"[a-z]+")


def english_words(text):
    """The words of an English text, lower-cased, without digits or punctuation.

    Parameters
    ----------
    text : str
        A non-empty text (a non-string raises TypeError, an empty or blank one
        ValueError). A word is a run of the letters a to z after lower-casing:
        any other character (an apostrophe, a digit, an accented letter) ends
        it and is left out.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from dlbook.text import english_words
    >>> english_words("In the beginning God created the heaven and the earth.")[:4]
    ['in', 'the', 'beginning', 'god']
    >>> english_words("Jacob's sons")
    ['jacob', 's', 'sons']
    """
    return _ENGLISH_WORD.findall(_check_text(text).lower())


# ---------------------------------------------------------------- skip-gram
def _check_corpus(corpus, vocab=None):
    ids = to_numpy("corpus", _host(corpus), ndim=1)
    if not onp.issubdtype(ids.dtype, onp.integer):
        if not onp.all(ids == onp.round(ids)):
            raise ValueError("Expected integer token indices in `corpus`, got fractional values.")
    ids = ids.astype("int64")
    if ids.min() < 0:
        raise ValueError(f"Expected token indices >= 0 in `corpus`, got {ids.min()}.")
    if vocab is not None and ids.max() >= len(vocab):
        raise ValueError(
            f"Vocabulary mismatch: `corpus` holds the index {ids.max()}, but `vocab` has only "
            f"{len(vocab)} tokens (indices 0 to {len(vocab) - 1}). Encode the corpus with this "
            "vocabulary: vocab.encode(tokens).")
    return ids


def _generator(seed):
    if seed is None:
        seed = int(onp.random.randint(0, 2**31 - 1))
    return check_int("seed", seed, minimum=0), onp.random.default_rng(seed)


def _pairs(ids, window, rng):
    """Centers and contexts within ``window`` (each center's own width drawn when ``rng``)."""
    n = len(ids)
    reach = onp.full(n, window) if rng is None else rng.integers(1, window + 1, size=n)
    centers, contexts, order = [], [], []
    positions = onp.arange(n)
    for offset in range(1, window + 1):
        for lo, hi in ((slice(offset, None), slice(None, n - offset)),   # context to the left
                       (slice(None, n - offset), slice(offset, None))):  # context to the right
            keep = reach[lo] >= offset
            centers.append(ids[lo][keep])
            contexts.append(ids[hi][keep])
            order.append(onp.stack([positions[lo][keep], positions[hi][keep]], axis=1))
    order = onp.concatenate(order)
    sort = onp.lexsort((order[:, 1], order[:, 0]))
    return onp.concatenate(centers)[sort], onp.concatenate(contexts)[sort]


def skipgram_pairs(corpus, window=2, dynamic=False, seed=None):
    """The (center, context) pairs of skip-gram: every token with each neighbour within ``window``.

    Pairs come in corpus order, by center and then by context position. With
    ``dynamic=True`` each center draws its own width from ``1..window``
    (uniformly, as word2vec does), so near neighbours form more pairs than far
    ones.

    Parameters
    ----------
    corpus : array-like of int, shape (n,)
        Token indices.
    window : int, default 2
        The largest distance between a center and its context.
    dynamic : bool, default False
    seed : int, optional
        Seed of the generator of the widths (``dynamic=True`` only).

    Returns
    -------
    centers, contexts : numpy.ndarray of int64, shape (num_pairs,)

    Examples
    --------
    >>> from dlbook.text import skipgram_pairs
    >>> centers, contexts = skipgram_pairs([10, 11, 12, 13], window=1)
    >>> list(zip(centers.tolist(), contexts.tolist()))
    [(10, 11), (11, 10), (11, 12), (12, 11), (12, 13), (13, 12)]
    >>> len(skipgram_pairs(range(100), window=5)[0]), len(skipgram_pairs(range(100), 5, True, 0)[0])
    (970, 599)
    """
    ids = _check_corpus(corpus)
    window = check_int("window", window, minimum=1)
    check_bool("dynamic", dynamic)
    rng = _generator(seed)[1] if dynamic else None
    return _pairs(ids, window, rng)


class NegativeSampler:
    """Draw "noise" tokens for negative sampling, with probabilities proportional to ``weights ** power``.

    word2vec draws negatives from the unigram distribution raised to the power
    3/4, which gives rare words a larger share than their frequency.

    Parameters
    ----------
    weights : array-like of float, shape (V,)
        Usually the token counts (:meth:`Vocabulary.frequencies`); a weight of 0
        (e.g. for the unknown token) is never drawn.
    power : float, default 0.75
    seed : int, optional

    Attributes
    ----------
    probabilities : numpy.ndarray, shape (V,)

    Examples
    --------
    >>> from dlbook.text import NegativeSampler
    >>> sampler = NegativeSampler([0, 81, 16, 1], seed=0)
    >>> sampler.probabilities.round(3).tolist()  # 27 : 8 : 1 instead of 81 : 16 : 1
    [0.0, 0.75, 0.222, 0.028]
    >>> sampler.sample((2, 4)).shape
    (2, 4)
    """

    def __init__(self, weights, power=0.75, seed=None):
        values = to_numpy("weights", _host(weights), ndim=1, dtype="float64")
        if (values < 0).any() or values.sum() <= 0:
            raise ValueError("Expected `weights` >= 0 with a positive sum (token counts), got "
                             f"values from {values.min():g} to {values.max():g}.")
        if isinstance(power, bool) or not isinstance(power, numbers.Real) or not 0 <= power <= 1:
            raise ValueError(f"Expected `power` in [0, 1], got {power!r}.")
        self.power = float(power)
        p = onp.where(values > 0, values ** self.power, 0.0)
        self.probabilities = p / p.sum()
        self._cumulative = onp.cumsum(self.probabilities)
        self._cumulative[-1] = 1.0
        self.seed, self._rng = _generator(seed)

    def sample(self, size):
        """Token indices drawn from :attr:`probabilities`, an int64 array of shape ``size``."""
        u = self._rng.random(size)
        return onp.searchsorted(self._cumulative, u, side="right").astype("int64")

    def __repr__(self):
        return f"NegativeSampler(num_tokens={len(self.probabilities)}, power={self.power})"


class SkipGramBatches:
    """Minibatches ``(X, Y)`` for skip-gram with negative sampling, made afresh every epoch.

    Every epoch: (1) **subsampling** keeps each occurrence of token ``w`` with
    probability :math:`\\min(1, \\sqrt{t / f(w)})` (``f`` its share of the
    corpus, ``t = subsample``), which thins out 'the' and 'and'; the unknown
    token is dropped; (2) :func:`skipgram_pairs` with a dynamic window makes
    (center, context) pairs, which are shuffled; (3) each pair gets
    ``num_negatives`` tokens from a :class:`NegativeSampler` (power 0.75).

    A row of ``X`` is ``[center, context, negative_1, ..., negative_K]``
    (``int32``), the row of ``Y`` is ``[1, 0, ..., 0]`` (``float32``): the model
    scores the context and each negative for the center, and a binary
    cross-entropy teaches it which is real.

    Parameters
    ----------
    corpus : array-like of int, shape (n,)
        Token indices made with ``vocab``.
    vocab : Vocabulary
        Its size must exceed every index of ``corpus``.
    window : int, default 5
    num_negatives : int, default 5
    batch_size : int, default 1024
    subsample : float or None, default 1e-4
        The threshold ``t``; None keeps every token.
    seed : int, optional

    Attributes
    ----------
    keep_probabilities : numpy.ndarray, shape (len(vocab),)
        The chance that subsampling keeps an occurrence of each token.
    sampler : NegativeSampler

    Examples
    --------
    >>> from dlbook.text import SkipGramBatches, Vocabulary
    >>> tokens = "the cat sat on the mat and the dog sat on the log".split()
    >>> vocab = Vocabulary(tokens)
    >>> batches = SkipGramBatches(vocab.encode(tokens), vocab, window=2, num_negatives=3,
    ...                           batch_size=8, subsample=None, seed=0)
    >>> X, Y = next(iter(batches))
    >>> X.shape, Y.shape, Y[0].tolist()
    ((8, 5), (8, 4), [1.0, 0.0, 0.0, 0.0])
    >>> len(batches)  # batches of the coming epoch
    5
    """

    def __init__(self, corpus, vocab, window=5, num_negatives=5, batch_size=1024, subsample=1e-4,
                 seed=None):
        if not isinstance(vocab, Vocab):
            raise TypeError(f"Expected `vocab` as a dlbook Vocabulary, got {describe(vocab)}.")
        self.corpus = _check_corpus(corpus, vocab)
        self.vocab = vocab
        self.window = check_int("window", window, minimum=1)
        self.num_negatives = check_int("num_negatives", num_negatives, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        if subsample is not None and (isinstance(subsample, bool) or not isinstance(
                subsample, numbers.Real) or not 0 < subsample < 1):
            raise ValueError(f"Expected `subsample` in (0, 1) or None, got {subsample!r}.")
        self.subsample = subsample
        self.seed, self._rng = _generator(seed)
        counts = onp.bincount(self.corpus, minlength=len(vocab)).astype("float64")
        counts[vocab.unk] = 0.0  # the unknown token is neither a center, a context nor a negative
        if counts.sum() == 0:
            raise ValueError("Expected `corpus` to hold known tokens, got only the unknown token.")
        share = counts / counts.sum()
        with onp.errstate(divide="ignore"):
            keep = onp.ones_like(share) if subsample is None else \
                onp.minimum(1.0, onp.sqrt(subsample / share))
        self.keep_probabilities = onp.where(counts > 0, keep, 0.0)
        self.sampler = NegativeSampler(counts, seed=int(self._rng.integers(2**31 - 1)))
        self._next = None

    def _make_epoch(self):
        kept = self._rng.random(len(self.corpus)) < self.keep_probabilities[self.corpus]
        ids = self.corpus[kept]
        if len(ids) < 2:
            return onp.zeros((0, 2 + self.num_negatives), "int32"), None
        centers, contexts = _pairs(ids, self.window, self._rng)
        order = self._rng.permutation(len(centers))
        negatives = self.sampler.sample((len(centers), self.num_negatives))
        X = onp.concatenate([centers[order, None], contexts[order, None], negatives], axis=1)
        return X.astype("int32"), len(centers)

    def __len__(self):
        if self._next is None:
            self._next = self._make_epoch()
        return math.ceil(len(self._next[0]) / self.batch_size)

    def __iter__(self):
        X_all = (self._next or self._make_epoch())[0]
        self._next = None
        labels = onp.zeros((1, 1 + self.num_negatives), "float32")
        labels[0, 0] = 1.0
        for start in range(0, len(X_all), self.batch_size):
            X = X_all[start:start + self.batch_size]
            yield self._to_tensors(onp.ascontiguousarray(X), onp.repeat(labels, len(X), axis=0))

    def _to_tensors(self, X, Y):
        """Hook of the framework layers: turn one NumPy batch into their tensors."""
        return X, Y

    def __repr__(self):
        return (f"{type(self).__name__}(num_tokens={len(self.corpus)}, vocab_size={len(self.vocab)}, "
                f"window={self.window}, num_negatives={self.num_negatives}, "
                f"batch_size={self.batch_size})")


# ---------------------------------------------------------------- neighbours
def _matrix(name, value):
    array = to_numpy(name, _host(value), ndim=(1, 2), dtype="float64")
    return array


def cosine_similarity(a, b):
    """Cosine of the angle between vectors: :math:`\\mathbf{a}^\\top\\mathbf{b} / (\\lVert\\mathbf{a}\\rVert \\lVert\\mathbf{b}\\rVert)`.

    Parameters
    ----------
    a : array-like, shape (d,) or (n, d)
    b : array-like, shape (d,) or (m, d)

    Returns
    -------
    float, or numpy.ndarray of shape (n,), (m,) or (n, m)
        A zero vector has similarity 0 with everything.

    Raises
    ------
    ValueError
        If the vectors have different lengths.

    Examples
    --------
    >>> from dlbook.text import cosine_similarity
    >>> round(cosine_similarity([1, 0], [1, 1]), 4)
    0.7071
    >>> cosine_similarity([[1, 0], [0, 2]], [[3, 0], [-1, 0]]).tolist()
    [[1.0, -1.0], [0.0, 0.0]]
    """
    A, B = _matrix("a", a), _matrix("b", b)
    if A.shape[-1] != B.shape[-1]:
        raise ValueError(f"Expected `a` and `b` with the same vector length, got shapes "
                         f"{A.shape} and {B.shape}.")
    def unit(M):
        norms = onp.linalg.norm(M, axis=-1, keepdims=True)
        return M / onp.where(norms > 0, norms, 1.0)
    result = unit(A) @ unit(B).T
    return float(result) if result.ndim == 0 else result


def nearest_neighbors(embeddings, vocab, token, k=5):
    """The ``k`` tokens whose vectors are closest to ``token``'s by cosine similarity.

    The token itself and the unknown token are left out.

    Parameters
    ----------
    embeddings : array-like, shape (len(vocab), d)
        One vector per vocabulary entry, row ``i`` for index ``i``.
    vocab : Vocabulary
    token : str
    k : int, default 5

    Returns
    -------
    list of (str, float)
        Tokens with their similarity, the most similar first.

    Raises
    ------
    ValueError
        If ``embeddings`` has not one row per token of ``vocab`` (a vocabulary
        mismatch) or ``token`` is not in the vocabulary.

    Examples
    --------
    >>> from dlbook.text import Vocabulary, nearest_neighbors
    >>> vocab = Vocabulary(["king", "queen", "bread"])
    >>> E = [[0, 0], [1, 0.1], [0.9, 0.2], [-1, 0]]   # rows: <unk>, bread, king, queen
    >>> vocab.idx_to_token
    ['<unk>', 'bread', 'king', 'queen']
    >>> [(t, round(s, 3)) for t, s in nearest_neighbors(E, vocab, "bread", k=2)]
    [('king', 0.993), ('queen', -0.995)]
    """
    E = to_numpy("embeddings", _host(embeddings), ndim=2, dtype="float64")
    _check_vocab_size(vocab, E.shape[0], "`embeddings` has {} rows")
    if not isinstance(token, str):
        raise TypeError(f"Expected `token` as a string, got {describe(token)}.")
    if token not in vocab or vocab[token] == vocab.unk:
        close = difflib.get_close_matches(token, vocab.idx_to_token[1:], n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"{token!r} is not in the vocabulary ({len(vocab)} tokens).{hint}")
    k = check_int("k", k, minimum=1, maximum=len(vocab) - 2)
    similarity = cosine_similarity(E, E[vocab[token]])
    similarity[[vocab.unk, vocab[token]]] = -onp.inf
    best = onp.argsort(-similarity, kind="stable")[:k]
    return [(vocab.idx_to_token[i], float(similarity[i])) for i in best]

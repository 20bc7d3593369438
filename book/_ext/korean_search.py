"""Korean full-text search for the HTML site (a Sphinx search language for ``ko``).

Sphinx has no Korean search language: with the default (English) one, a Korean
word is indexed only as the whole space-separated token, particles included
(``모델은``, ``모델을``), so a query such as ``모델`` finds nothing. Korean
attaches particles and endings to the stem, so this language indexes Hangul by
character n-grams instead:

* index side (Python): every run of Hangul is split into its syllables and its
  overlapping syllable bigrams (``역전파를`` -> ``역``, ``전``, ``파``, ``를``,
  ``역전``, ``전파``, ``파를``); everything else is split into words and
  stemmed with the Porter stemmer, as in Sphinx's English search;
* query side (JavaScript, ``splitQuery`` and ``Stemmer`` below): a Hangul run of
  two or more syllables becomes its bigrams (one syllable stays itself); Latin
  words are stemmed with the same Porter stemmer. Sphinx requires every query
  term to occur in a page, so ``역전파`` finds the pages that contain
  ``역전`` and ``전파``, i.e. the pages that say 역전파 (in any inflection).

The query side never produces a Hangul term longer than two syllables, so the
whole words need not be indexed. Mixed tokens (``MLP의``) are split at the
script boundary on both sides.
"""
import re

import snowballstemmer
from sphinx.search import SearchLanguage
from sphinx.search.en import english_stopwords, js_porter_stemmer

from bilingual_text import HANGUL_CLASS

_HANGUL_RUN = re.compile(f"[{HANGUL_CLASS}]+")
# A run of Hangul, or a run of other word characters (letters, digits, underscore).
_TOKEN = re.compile(f"[{HANGUL_CLASS}]+|[^\\W{HANGUL_CLASS}]+")


def hangul_terms(run, *, index):
    """Search terms of one run of Hangul syllables.

    >>> hangul_terms("역전파", index=False)
    ['역전', '전파']
    >>> hangul_terms("층", index=False)
    ['층']
    >>> hangul_terms("모델을", index=True)
    ['모', '델', '을', '모델', '델을']
    """
    if len(run) == 1:
        return [run]
    bigrams = [run[i:i + 2] for i in range(len(run) - 1)]
    return (list(run) + bigrams) if index else bigrams


def split_korean(text, *, index=True):
    """Split text into search terms: Hangul n-grams and other words.

    >>> split_korean("MLP의 역전파를 backpropagation")
    ['MLP', '의', '역', '전', '파', '를', '역전', '전파', '파를', 'backpropagation']
    """
    terms = []
    for token in _TOKEN.findall(text):
        if _HANGUL_RUN.fullmatch(token):
            terms.extend(hangul_terms(token, index=index))
        else:
            terms.append(token)
    return terms


JS_SPLITTER = (r"""
/* dlbook: Korean search (book/_ext/korean_search.py). A run of Hangul becomes
   its syllable bigrams (a single syllable stays itself); other words stay whole. */
var splitQuery = (query) => {
  const HANGUL = /^[@HANGUL@]+$/;
  const TOKEN = /[@HANGUL@]+|(?:(?![@HANGUL@])[\p{L}\p{N}_])+/gu;
  const terms = [];
  for (const token of query.match(TOKEN) || []) {
    if (HANGUL.test(token) && token.length > 1) {
      for (let i = 0; i + 1 < token.length; i++) terms.push(token.slice(i, i + 2));
    } else {
      terms.push(token);
    }
  }
  return terms;
};
""").replace("@HANGUL@", HANGUL_CLASS)

JS_STEMMER = js_porter_stemmer + (r"""
/* dlbook: Hangul terms are n-grams, never stemmed; other words use Porter. */
var PorterStemmer = Stemmer;
Stemmer = function() {
  var porter = new PorterStemmer();
  this.stemWord = function(w) {
    return /[@HANGUL@]/.test(w) ? w : porter.stemWord(w);
  };
};
""").replace("@HANGUL@", HANGUL_CLASS)


class SearchKorean(SearchLanguage):
    """Korean (with English) search: Hangul n-grams plus Porter-stemmed words."""

    lang = "ko"
    language_name = "Korean"
    stopwords = english_stopwords
    js_splitter_code = JS_SPLITTER
    js_stemmer_code = JS_STEMMER

    def init(self, options):
        self.stemmer = snowballstemmer.stemmer("porter")

    def split(self, input):
        return split_korean(input, index=True)

    def stem(self, word):
        if _HANGUL_RUN.search(word):
            return word
        return self.stemmer.stemWord(word.lower())

    def word_filter(self, word):
        if _HANGUL_RUN.search(word):
            return True  # syllables and bigrams are the index
        return len(word) > 0 and word not in self.stopwords


def setup(app):
    app.add_search_language(SearchKorean)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}

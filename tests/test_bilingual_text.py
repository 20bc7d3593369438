"""The one definition of Hangul and of the ko/en fences (book/_ext/bilingual_text.py)."""
import re
import sys

import pytest

from book._ext import bilingual_text
from book_helpers import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))


@pytest.mark.parametrize("text", [
    "한국어",          # Hangul syllables
    "ㅋㅋ",            # compatibility jamo, typed alone
    "ㄱ 받침",
    "\u1112\u1161\u11ab",  # 한 spelled with conjoining jamo (NFD)
    "\ua960",         # Hangul Jamo Extended-A
    "\ud7b0",         # Hangul Jamo Extended-B
    "MLP의",
])
def test_hangul_is_found_in_syllables_and_every_kind_of_jamo(text):
    assert bilingual_text.HANGUL.search(text)


@pytest.mark.parametrize("text", [
    "Activation functions", "x = 1.5e-3 (MSE) %", "漢字", "ひらがな", "ＡＢＣ１２", "\uffa1",
    "\ud7a4",  # after the last syllable: not assigned
])
def test_latin_han_kana_and_unassigned_code_points_are_not_hangul(text):
    assert not bilingual_text.HANGUL.search(text)


def test_the_class_is_the_ranges_and_reads_the_same_in_python_and_javascript():
    chars = {chr(c) for first, last in bilingual_text.HANGUL_RANGES for c in range(first, last + 1)}
    assert chars == {chr(c) for c in range(0x1100, 0xD800) if bilingual_text.HANGUL.match(chr(c))}
    assert re.fullmatch(r"(\\u[0-9a-f]{4}-\\u[0-9a-f]{4})+", bilingual_text.HANGUL_CLASS)


@pytest.mark.parametrize("line, fence, lang", [
    (":::{ko}", ":::", "ko"), ("::::{en}  ", "::::", "en"),
    (":::{note}", None, None), (":::{ko} title", None, None), ("```{ko}", None, None),
])
def test_language_fences(line, fence, lang):
    m = bilingual_text.LANG_FENCE.match(line)
    assert (m.groups() if m else (None, None)) == (fence, lang)


def test_the_extensions_and_the_tools_use_the_one_definition():
    import bilingual
    import glossary_links
    import korean_search
    import site_assets

    from dlbook import language
    from tools import check_bilingual, frameworks

    hangul = bilingual_text.HANGUL.pattern
    # dlbook.language keeps its own copy (the installed package cannot import the
    # book's files): the figures split their labels by the same Hangul.
    for module in (language, glossary_links, site_assets, check_bilingual):
        assert module.HANGUL.pattern == hangul, module.__name__
    assert bilingual.english_span is language.english_span
    assert bilingual.LANGUAGES == bilingual_text.LANGUAGES
    assert korean_search.HANGUL_CLASS == bilingual_text.HANGUL_CLASS
    assert korean_search.JS_SPLITTER.count(bilingual_text.HANGUL_CLASS) == 3
    assert bilingual_text.HANGUL_CLASS in korean_search.JS_STEMMER
    assert frameworks.LANG_FENCE.pattern == bilingual_text.LANG_FENCE.pattern
    # No other copy of a Hangul range or of the fence's pattern in the tools and extensions.
    sources = sorted((ROOT / "tools").glob("*.py")) + sorted((ROOT / "book" / "_ext").glob("*.py"))
    copies = [path.name for path in sources if path.name != "bilingual_text.py"
              and re.search(r"\\u(ac00|1100|3130)|\\{\(ko\|en\)\\}|가-힣",
                            path.read_text(encoding="utf-8"), re.I)]
    assert copies == []

"""How the book's tools and Sphinx extensions tell its two languages apart: one definition.

* :data:`HANGUL` -- a Hangul character, from :data:`HANGUL_CLASS` (the checker of
  ``tools/check_bilingual.py``, the headings of ``bilingual.py``, the glossary links,
  the Korean search and the web font's subset);
* :data:`LANG_FENCE` -- the line that opens a ``ko`` or ``en`` block (``:::{ko}``,
  ``::::{en}`` around a nested directive).

The module imports nothing but ``re``, so that it loads wherever the book's files
do. Sphinx imports the extensions of ``book/_ext`` as top-level modules (the
``sphinx: local_extensions`` of ``_config.yml`` put the folder on ``sys.path``), and
they ``import bilingual_text``; the tools, run from the repository root, import it
as ``book._ext.bilingual_text``. It lives beside the extensions because a book
built elsewhere (the tests' small books) copies ``book/_ext`` and nothing else.
"""
import re

#: The block languages, in the book's order.
LANGUAGES = ("ko", "en")

#: The Unicode blocks that hold Hangul, as (first, last) code points. Modern Korean
#: text is precomposed syllables; a jamo typed alone (ㅋㅋ, "ㄱ 받침") is a compatibility
#: jamo; conjoining jamo (a syllable spelled as its letters, NFD text, old Hangul with
#: the Extended-A/B letters) belong to the same words, so a run of Hangul is never cut
#: inside one. Halfwidth Hangul (U+FFA0-FFDC), a legacy of old encodings, is left
#: out: NFKC maps it to the compatibility jamo, and no text of the book has it.
HANGUL_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo (conjoining)
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7A3),  # Hangul Syllables (the 11,172 assigned; D7A4-D7AF are not)
    (0xD7B0, 0xD7FF),  # Hangul Jamo Extended-B
)
#: The ranges as the inside of a character class, in ``\\uXXXX`` escapes that Python's
#: ``re`` and JavaScript's regular expressions read alike (the search's query side).
HANGUL_CLASS = "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last in HANGUL_RANGES)
#: One Hangul character.
HANGUL = re.compile(f"[{HANGUL_CLASS}]")

#: A line (stripped) that opens a language block: group 1 the colons that close it,
#: group 2 the language.
LANG_FENCE = re.compile(r"^(:{3,})\{(" + "|".join(LANGUAGES) + r")\}\s*$")

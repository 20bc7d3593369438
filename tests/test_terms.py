"""The book's Korean terminology: one rendering per term, as book/_terms.yml lists it.

Every chapter of _toc.yml is scanned where Korean is written: the ``ko`` blocks, the
headings and the string literals of code cells (plot labels, table headers). The glossary
entries (book/_glossary/*.yml) are scanned too, and their Korean names must be the
renderings that _terms.yml prescribes.
"""
import ast
import io
import re
import tokenize

import pytest
import yaml

from book_helpers import ROOT, check_bilingual, source, toc_files

TERMS_FILE = ROOT / "book" / "_terms.yml"
GLOSSARY_DIR = ROOT / "book" / "_glossary"
# book/glossary.md is generated from book/_glossary/*.yml, which are scanned directly.
PAGES = [p for p in toc_files() if p != "book/glossary"]


def load_terms(path=TERMS_FILE):
    terms = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(terms, list):
        raise ValueError(f"{path}: expected a YAML list of terms, got {type(terms).__name__}")
    for i, term in enumerate(terms):
        missing = [k for k in ("en", "ko", "forbidden") if not term.get(k)]
        if missing:
            raise ValueError(f"{path}: term {i} ({term.get('en')!r}) lacks {missing}")
        term["patterns"] = [re.compile(p) for p in term["forbidden"]]
    return terms


TERMS = load_terms()


def _code_strings(code):
    """(line offset, text) of every string literal in a code cell."""
    out = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [(i, line) for i, line in enumerate(code.split("\n"))]
    for tok in tokens:
        if tok.type == tokenize.STRING:
            try:
                text = ast.literal_eval(tok.string)
            except (ValueError, SyntaxError):  # f-strings: check the source text
                text = tok.string
            out.append((tok.start[0] - 1, str(text)))
    return out


def korean_text(text):
    """(line number, text) of the places of a chapter where the book writes Korean."""
    lines = text.split("\n")
    out = [(i + 1, lines[i]) for i in check_bilingual._korean_lines(lines)]
    i = 0
    while i < len(lines):
        if lines[i].startswith("```{code-cell}"):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            body = lines[i + 1:end]
            out += [(i + 2 + k, s) for k, s in _code_strings("\n".join(body))]
            i = end
        i += 1
    return out


def term_problems(pieces, name):
    """Messages naming file:line, the variant found and the preferred rendering."""
    problems = []
    for lineno, text in pieces:
        for term in TERMS:
            for pattern in term["patterns"]:
                for m in pattern.finditer(text):
                    problems.append(f"{name}:{lineno}: {m.group(0)!r} for {term['en']!r}: "
                                    f"write {term['ko']!r}")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_chapter_uses_the_book_terms(page):
    path = source(page)
    problems = term_problems(korean_text(path.read_text(encoding="utf-8")),
                             str(path.relative_to(ROOT)))
    assert not problems, "\n".join(problems)


def test_glossary_entries_use_the_book_terms():
    problems = []
    for path in sorted(GLOSSARY_DIR.glob("*.yml")):
        for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
            if re.match(r"^\s*-?\s*ko(_def)?:", line):
                problems += term_problems([(i, line)], str(path.relative_to(ROOT)))
    assert not problems, "\n".join(problems)


def test_glossary_names_terms_as_the_term_list_does():
    """A glossary entry whose English name is in _terms.yml carries its Korean rendering."""
    by_en = {t["en"].lower(): t for t in TERMS}
    wrong = []
    for path in sorted(GLOSSARY_DIR.glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            term = by_en.get(str(entry["en"]).lower())
            if term and entry["ko"] not in [term["ko"], *term.get("also", [])]:
                wrong.append(f"{path.name}: {entry['en']!r} is {entry['ko']!r}, "
                             f"_terms.yml says {term['ko']!r}")
    assert not wrong, "\n".join(wrong)
    assert any(str(e["en"]).lower() in by_en
               for p in GLOSSARY_DIR.glob("*.yml") for e in yaml.safe_load(p.read_text()) or [])


def test_preferred_renderings_are_not_forbidden_themselves():
    for term in TERMS:
        for ok in [term["ko"], *term.get("also", [])]:
            assert not any(p.search(ok) for p in term["patterns"]), (term["en"], ok)


SYNTHETIC = """\
# 덴스 층 (Dense Layers)

:::{ko}
모든 파라미터는 하이퍼파라미터와 다릅니다. 그 특징 맵을 봅니다.
:::

:::{en}
Every parameter differs from a hyperparameter.
:::

```{code-cell} ipython3
# 파라미터 in a comment is not a string
plot(xlabel="에폭 (epoch)")
```
"""


def test_a_forbidden_variant_is_caught_with_its_line_and_the_preferred_term():
    problems = term_problems(korean_text(SYNTHETIC), "page.md")
    assert any(p.startswith("page.md:1: '덴스 층'") and "'밀집층'" in p for p in problems), problems
    assert any(p.startswith("page.md:4: '파라미터'") and "'매개변수'" in p for p in problems), problems
    assert any(p.startswith("page.md:4: '특징 맵'") and "'특성 맵'" in p for p in problems), problems
    assert any(p.startswith("page.md:13: '에폭'") and "'에포크'" in p for p in problems), problems
    # 하이퍼파라미터 is its own term, the English block and code comments are not Korean prose.
    assert sum("'파라미터'" in p for p in problems) == 1, problems
    assert not any(":8:" in p or ":12:" in p for p in problems), problems


def test_ordinary_uses_of_characteristic_words_pass():
    text = ":::{ko}\n이 방법의 특징은 단순함입니다. 과대적합을 막습니다.\n:::\n"
    assert term_problems(korean_text(text), "page.md") == []

"""Tests of the book tools: the bilingual checker and the execution-cache invalidation."""
import shutil

import pytest

from book_helpers import NOTEBOOK_HEADER, ROOT, build_book, check_bilingual

GOOD = """\
# 활성화 함수 (Activation Functions)

:::{ko}
활성화 함수는 비선형입니다.
:::

:::{en}
Activation functions are nonlinear.
:::

$$
\\sigma(z) = \\frac{1}{1 + e^{-z}}
$$

```{code-cell} ipython3
# 주석 is fine inside code
x = 1
```
"""


def test_checker_accepts_a_bilingual_chapter():
    assert check_bilingual.check_text(GOOD) == []


@pytest.mark.parametrize("bad, message", [
    (GOOD.replace(":::{en}\nActivation functions are nonlinear.\n:::\n", ""), "no `en` partner"),
    (GOOD.replace(":::{ko}\n활성화 함수는 비선형입니다.\n:::\n", ""), "no `ko` partner"),
    (GOOD + "\nA stray English paragraph.\n", "prose outside a language block"),
    (GOOD.replace("# 활성화 함수 (Activation Functions)", "# Activation Functions"), "both languages"),
    (GOOD.replace("# 활성화 함수 (Activation Functions)", "# 활성화 함수"), "both languages"),
    (GOOD.replace("활성화 함수는 비선형입니다.", "Untranslated text."), "no Korean text"),
    (GOOD.replace("Activation functions are nonlinear.", "영어가 아닌 한국어 문장입니다."),
     "not mostly English"),
    (GOOD + "\n:::{note}\nA note outside the language blocks.\n:::\n", "directive `note`"),
    (GOOD.replace(":::{en}\nActivation functions are nonlinear.\n:::", ":::{en}\nNever closed."),
     "never closed"),
])
def test_checker_rejects(bad, message):
    problems = check_bilingual.check_text(bad, "chapter.md")
    assert any(message in p for p in problems), problems


def test_fingerprint_follows_dlbook_sources(tmp_path):
    shutil.copytree(ROOT / "dlbook", tmp_path / "dlbook",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in build_book.FINGERPRINT_INPUTS:
        shutil.copy(ROOT / name, tmp_path / name)
    before = build_book.fingerprint(tmp_path)
    assert before == build_book.fingerprint(tmp_path)
    with open(tmp_path / "dlbook" / "utils.py", "a") as f:
        f.write("\n# a change\n")
    assert build_book.fingerprint(tmp_path) != before


def test_stale_cache_is_cleared_and_fresh_cache_kept(tmp_path):
    build = tmp_path / "_build"
    (build / ".jupyter_cache").mkdir(parents=True)
    (build / ".jupyter_cache" / "record").write_text("old outputs")
    (build / "jupyter_execute").mkdir()
    # First build with this code: no stamp yet, the cache predates it -> cleared.
    assert build_book.invalidate_stale_cache(build, "aaa") is True
    assert not (build / ".jupyter_cache").exists()
    assert not (build / "jupyter_execute").exists()
    # Same code again: a cache filled since is kept.
    (build / ".jupyter_cache").mkdir()
    assert build_book.invalidate_stale_cache(build, "aaa") is False
    assert (build / ".jupyter_cache").exists()
    # dlbook changed: cleared.
    assert build_book.invalidate_stale_cache(build, "bbb") is True
    assert not (build / ".jupyter_cache").exists()
    assert (build / ".dlbook-fingerprint").read_text().strip() == "bbb"


def test_glossary_merges_and_sorts_terms(tmp_path):
    import make_glossary

    (tmp_path / "a.yml").write_text(
        "- {ko: 퍼셉트론, en: perceptron, ko_def: 가장 단순한 신경망., en_def: The simplest network.}\n"
        "- {ko: 가중치, en: weight, ko_def: 입력에 곱하는 값., en_def: A factor on an input.}\n",
        encoding="utf-8")
    (tmp_path / "b.yml").write_text(
        "- {ko: 가중치, en: Weight, ko_def: 다른 정의., en_def: Another definition.}\n",
        encoding="utf-8")
    terms = make_glossary.load_terms(tmp_path)
    assert [t["en"] for t in terms] == ["perceptron", "weight"]  # merged case-insensitively
    text = make_glossary.render(terms)
    assert text.index("가중치 (weight)") < text.index("퍼셉트론 (perceptron)")  # 가나다 order
    assert text.index("perceptron (퍼셉트론)") < text.index("weight (가중치)")
    assert "다른 정의" not in text  # the first definition wins
    assert check_bilingual.check_text(text) == []


def test_glossary_rejects_incomplete_entries(tmp_path):
    import make_glossary

    (tmp_path / "a.yml").write_text("- {ko: 퍼셉트론, en: perceptron, ko_def: 정의.}\n",
                                    encoding="utf-8")
    with pytest.raises(ValueError, match="lacks \\['en_def'\\]"):
        make_glossary.load_terms(tmp_path)


def test_committed_glossary_is_up_to_date():
    import make_glossary

    if not make_glossary.SOURCE_DIR.is_dir():
        pytest.fail("book/_glossary/ is missing")
    assert make_glossary.main(["--check"]) == 0, "run tools/make_glossary.py and commit"


# ------------------------------------------------------------- build budget
TINY_PAGE = NOTEBOOK_HEADER + """
# 장 {title} (Chapter {title})

:::{{ko}}
한국어 문단.
:::

:::{{en}}
An English paragraph.
:::

```{{code-cell}} ipython3
:tags: [remove-input]
print("{title}", 6 * 7)
```
"""


def test_budget_probes_edit_prose_and_the_first_code_cell(tmp_path):
    import build_budget

    page = tmp_path / "page.md"
    page.write_text(TINY_PAGE.format(title="A"), encoding="utf-8")
    build_budget.edit_code(page)
    text = page.read_text(encoding="utf-8")
    assert ':tags: [remove-input]\n_budget_probe = 1\nprint("A", 6 * 7)' in text
    build_budget.edit_prose(page)
    assert check_bilingual.check_text(page.read_text(encoding="utf-8"), "page.md") == []
    empty = tmp_path / "empty.md"
    empty.write_text("# no code\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no code cell"):
        build_budget.edit_code(empty)


@pytest.mark.slow
def test_rebuild_executes_only_the_chapter_whose_code_changed(tmp_path):
    """The cache behaviour the build budget relies on, on a book of two small chapters."""
    import build_budget

    book = tmp_path / "tiny"
    (book / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "book" / "_ext", book / "book" / "_ext")
    shutil.copytree(ROOT / "book" / "_static", book / "book" / "_static")
    shutil.copytree(ROOT / "tools", book / "tools")
    (book / "book" / "index.md").write_text("# 색인 (Index)\n\n:::{ko}\n처음.\n:::\n\n:::{en}\nStart.\n:::\n",
                                            encoding="utf-8")
    for name in ("alpha", "beta"):
        (book / "book" / f"{name}.md").write_text(TINY_PAGE.format(title=name), encoding="utf-8")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/index\nchapters:\n"
                                   "  - file: book/alpha\n  - file: book/beta\n")
    _, first = build_budget.build(book)
    assert sorted(first["executed"]) == ["book/alpha.md", "book/beta.md"]
    build_budget.edit_prose(book / "book" / "beta.md")
    _, prose = build_budget.build(book)
    assert prose["executed"] == []
    assert "A budget probe sentence." in (book / "_build" / "html" / "book" / "beta.html").read_text()
    build_budget.edit_code(book / "book" / "beta.md")
    _, code = build_budget.build(book)
    assert code["executed"] == ["book/beta.md"]

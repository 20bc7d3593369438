"""Tests of the book tools: the bilingual checker, the glossary, the build's execution cache,
and the two frameworks (split, merge, keys, readers' notebooks, tabs, recorded values)."""
import copy
import json
import shutil
import sys

import nbformat
import pytest

from book_helpers import (INDEX_PAGE, NOTEBOOK_HEADER, ROOT, TWO_FRAMEWORKS, build_book,
                          check_bilingual, make_book, run_build)
from tools import frameworks

sys.path.insert(0, str(ROOT / "book" / "_ext"))

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


@pytest.mark.parametrize("wrong, right", [
    ("MLP 는 층을 쌓습니다.", "MLP는 층을 쌓습니다."),
    ("Gluon 의 층입니다.", "Gluon의 층입니다."),
    ("2 층 신경망과 10 개의 출력", "2층 신경망과 10개의 출력"),
    ("평균 제곱 오차 (MSE) 는 큽니다.", "평균 제곱 오차 (MSE)는 큽니다."),
    ("**비율** 을 봅니다.", "**비율**을 봅니다."),
    ("`x`는 배열이고 $n$개입니다.", "`x` 는 배열이고 $n$ 개입니다."),
])
def test_particle_spacing_is_reported_and_fixed(wrong, right):
    text = GOOD.replace("활성화 함수는 비선형입니다.", wrong)
    problems = check_bilingual.check_text(text, "chapter.md")
    assert problems and all(p.startswith("chapter.md:4: particle spacing") for p in problems), problems
    fixed = check_bilingual.fix_spacing(text)
    assert right in fixed and check_bilingual.check_text(fixed) == []


@pytest.mark.parametrize("line", [
    "10 이상의 값, ReLU 가중치, log 로그 함수, 2 과적합",   # words that start like particles
    "**평균 제곱 오차 (MSE)** 는 큽니다.",               # CommonMark needs the space after )**
    "인라인 `x` 는 코드, $x$ 는 수식입니다.",
])
def test_particle_spacing_leaves_correct_text_alone(line):
    assert check_bilingual.spacing_fixes(line) == []


def test_particle_spacing_skips_english_blocks_code_and_math():
    text = GOOD.replace("Activation functions are nonlinear.", "MLP 는 is Korean in English?")
    text = text.replace("x = 1", 'label = "MLP 는"')
    assert check_bilingual.spacing_problems(text) == []


NESTED = """\
::::{ko}
:::{note}
MLP 는 노트 안에 있습니다.
:::

```python
label = "MLP 는"  # code inside a block
```
::::

::::{en}
:::{note}
A note inside the block.
:::
::::
"""


def test_checker_reads_blocks_as_myst_does_nested_directives_lists_and_setext_headings():
    text = GOOD + "\n" + NESTED
    problems = check_bilingual.check_text(text, "chapter.md")
    note = text.splitlines().index("MLP 는 노트 안에 있습니다.") + 1
    assert problems == [f"chapter.md:{note}: particle spacing in 'MLP 는 노트 ': "
                        "attach the particle to the word before it"]
    # A '#' line inside a code cell is code, a list is prose, a setext heading is a heading.
    text = GOOD.replace("x = 1", "# 주석\nx = 1") + "\n- a stray list\n  item\n\nOnly English\n===\n"
    line = text.splitlines().index("- a stray list") + 1
    assert check_bilingual.check_text(text, "c.md") == [
        f"c.md:{line}: prose outside a language block: '- a stray list'",
        f"c.md:{line + 1}: prose outside a language block: 'item'",
        f"c.md:{line + 3}: heading 'Only English' must carry both languages, e.g. '활성화 함수 "
        "(Activation Functions)'"]


@pytest.mark.parametrize("command", [["tools/check_bilingual.py"], ["-m", "tools.check_bilingual"]])
def test_checker_runs_as_a_file_and_as_a_module(tmp_path, command):
    import subprocess

    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.md").write_text(GOOD + "\nA stray line.\n", encoding="utf-8")
    line = (GOOD + "\nA stray line.\n").splitlines().index("A stray line.") + 1
    proc = subprocess.run([sys.executable, *command, str(tmp_path / "good.md"),
                           str(tmp_path / "bad.md")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [
        f"{tmp_path / 'bad.md'}:{line}: prose outside a language block: 'A stray line.'",
        "2 files checked, 1 problems"]


def _copy_sources(tmp_path):
    shutil.copytree(ROOT / "dlbook", tmp_path / "dlbook",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in build_book.FINGERPRINT_INPUTS:
        shutil.copy(ROOT / name, tmp_path / name)


def test_fingerprint_follows_dlbook_sources_and_each_framework_skips_the_other_layer(tmp_path):
    _copy_sources(tmp_path)

    def prints():
        return {fw: build_book.fingerprint(tmp_path, fw) for fw in (None, "mxnet", "pytorch")}

    before = prints()
    assert before == prints()
    with open(tmp_path / "dlbook" / "torch" / "__init__.py", "a") as f:
        f.write("\nLAYER_CHANGE = 1\n")
    after = prints()
    assert after["mxnet"] == before["mxnet"]  # MXNet notebooks need not run again
    assert after["pytorch"] != before["pytorch"] and after[None] != before[None]
    with open(tmp_path / "dlbook" / "plot.py", "a") as f:
        f.write("\nCORE_CHANGE = 1\n")
    core = prints()
    assert all(core[k] != after[k] for k in core)
    with open(tmp_path / "constraints.txt", "a") as f:
        f.write("\nsomething==1.0\n")
    assert all(prints()[k] != core[k] for k in core)


def test_fingerprint_ignores_docstrings_and_comments_but_not_code(tmp_path):
    _copy_sources(tmp_path)
    module = tmp_path / "dlbook" / "metrics.py"
    text = module.read_text()
    assert '"""' in text and "def accuracy" in text
    before = build_book.fingerprint(tmp_path)
    full = build_book.fingerprint(tmp_path, docstrings=True)
    # A reworded docstring, a new comment and re-wrapped code: nothing a notebook prints.
    start = text.index('"""', text.index("def accuracy")) + 3
    edited = text[:start] + "Reworded. " + text[start:] + "\n# a comment\n"
    module.write_text(edited)
    assert build_book.fingerprint(tmp_path) == before
    assert build_book.fingerprint(tmp_path, docstrings=True) != full  # the API page changes
    # A string that is not a docstring, and a changed constant, are code.
    module.write_text(edited + "\nNOTE = 'a string statement'\n")
    changed = build_book.fingerprint(tmp_path)
    assert changed != before
    module.write_text(edited + "\nNOTE = 'another string'\n")
    assert build_book.fingerprint(tmp_path) != changed
    # A module that reads __doc__ may print its docstrings: hashed as text.
    module.write_text(text + "\nSUMMARY = __doc__\n")
    with_doc = build_book.fingerprint(tmp_path)
    module.write_text(text[:start] + "Reworded. " + text[start:] + "\nSUMMARY = __doc__\n")
    assert build_book.fingerprint(tmp_path) != with_doc
    # A module that does not parse is hashed as text (the kernel reports the error).
    module.write_text(text + "\ndef broken(:\n")
    broken = build_book.fingerprint(tmp_path)
    module.write_text(text + "\ndef broken(: # a comment\n")
    assert build_book.fingerprint(tmp_path) != broken


def test_dlbook_change_makes_sphinx_reread_every_page(tmp_path):
    build = tmp_path / "_build"
    (build / ".doctrees").mkdir(parents=True)
    (build / ".jupyter_cache").mkdir()  # an older build's execution cache
    (build / ".dlbook" / "executed").mkdir(parents=True)
    # First build with this code: no stamp yet -> the old environment goes.
    assert build_book.invalidate_stale_cache(build, "aaa") is True
    assert not (build / ".doctrees").exists() and not (build / ".jupyter_cache").exists()
    assert (build / ".dlbook" / "executed").exists()  # keyed by the fingerprint: kept
    # Same code again: the environment of the last build is kept.
    (build / ".doctrees").mkdir()
    assert build_book.invalidate_stale_cache(build, "aaa") is False
    assert (build / ".doctrees").exists()
    assert build_book.invalidate_stale_cache(build, "bbb") is True
    assert not (build / ".doctrees").exists()
    assert (build / ".dlbook-fingerprint").read_text().strip() == "bbb"


def _run(tmp_path, framework="pytorch"):
    nb = frameworks.split(frameworks.read_chapter(TWO_FRAMEWORKS), framework)
    return build_book.Run("book/two", TWO_FRAMEWORKS, framework, nb, [framework], "key-1",
                          tmp_path / ".dlbook")


def test_a_run_is_kept_with_its_record_and_a_cached_one_reads_it_back(tmp_path):
    run = _run(tmp_path)
    assert run.record is None and not run.ok
    build_book.store(run, {"ok": True, "seconds": 1.25})
    assert run.ok and run.cache_file.is_file() and not run.failed_file.exists()
    again = _run(tmp_path)
    hit = again.cached()
    assert hit.metadata["dlbook"] == run.record
    assert run.record["key"] == "key-1" and run.record["seconds"] == 1.25 and "error" not in run.record


def test_a_failed_run_is_reported_from_the_record_kept_with_its_notebook(tmp_path):
    run = _run(tmp_path)
    index = next(i for i, c in enumerate(run.notebook.cells) if "torch.tensor" in c.source)
    build_book.store(run, {"ok": False, "seconds": 0.5, "cell_index": index,
                           "ename": "ZeroDivisionError", "message": "Traceback: division by zero"})
    assert not run.ok and run.failed_file.is_file() and not run.cache_file.exists()
    kept = nbformat.read(run.failed_file, as_version=4)
    assert kept.metadata["dlbook"]["key"] is None  # never taken from the cache
    assert kept.metadata["dlbook"]["error"] == {"cell_index": index, "ename": "ZeroDivisionError",
                                                "message": "Traceback: division by zero"}
    message, summary = build_book.failure_message(run)
    cell = run.notebook.cells[index]
    line = run.notebook.metadata["source_map"][index]
    where = f"cell {cell.metadata['dlbook']['source_index']} (line {line} of the chapter)"
    assert message.splitlines()[0] == ("book/two.md [PyTorch]: Executing notebook failed: "
                                       f"{where} raised ZeroDivisionError")
    assert cell.source.splitlines()[0] in message and message.endswith("Traceback: division by zero")
    assert summary == f"book/two.md [PyTorch] {where}: ZeroDivisionError"
    # The same report from the kept file alone.
    again = _run(tmp_path)
    again.notebook, again.record = kept, kept.metadata["dlbook"]
    assert build_book.failure_message(again) == (message, summary)


def test_glossary_merges_and_sorts_terms(tmp_path):
    from tools import make_glossary

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
    from tools import make_glossary

    (tmp_path / "a.yml").write_text("- {ko: 퍼셉트론, en: perceptron, ko_def: 정의.}\n",
                                    encoding="utf-8")
    with pytest.raises(ValueError, match="lacks \\['en_def'\\]"):
        make_glossary.load_terms(tmp_path)


def test_committed_glossary_is_up_to_date():
    from tools import make_glossary

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
    from tools import build_budget

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
    from tools import build_budget

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


# ------------------------------------------------------------- two frameworks: split, merge, keys


def _fixture():
    return frameworks.read_chapter(TWO_FRAMEWORKS)


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _glue(name, value):
    return nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": repr(value)},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}})


def _executed(nb, framework, outputs):
    """``framework``'s notebook of ``nb`` as if executed: ``outputs(source of cell)`` per code cell."""
    run = frameworks.split(nb, framework)
    for cell in _code(run):
        cell.outputs = outputs(cell.source)
        cell.execution_count = 1
    return run


def test_split_keeps_each_framework_cells_and_the_shared_ones_with_their_lines():
    nb = _fixture()
    lines = nb.metadata.source_map
    for framework, other in [("mxnet", "pytorch"), ("pytorch", "mxnet")]:
        run = frameworks.split(nb, framework)
        tags = [set(c.metadata.get("tags", [])) for c in _code(run)]
        assert not any(other in t for t in tags)
        assert any(framework in t for t in tags)
        assert sum(not (t & {"mxnet", "pytorch"}) for t in tags) == 2  # the two shared cells
        indices = [c.metadata["dlbook"]["source_index"] for c in run.cells]
        assert run.metadata.source_map == [lines[i] for i in indices]
        assert run.metadata["dlbook"]["framework"] == framework
    assert "dlbook" not in nb.cells[0].metadata  # the chapter itself is unchanged


def test_a_chapter_runs_once_per_framework_or_once_without_framework_cells():
    nb = _fixture()
    assert [(fw, served) for fw, _, served in frameworks.runs(nb)] == [
        ("mxnet", ["mxnet"]), ("pytorch", ["pytorch"])]
    untagged = copy.deepcopy(nb)
    for cell in untagged.cells:
        cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t not in frameworks.FRAMEWORKS]
    runs = frameworks.runs(untagged)
    assert len(runs) == 1 and runs[0][0] == "mxnet"
    assert runs[0][2] == ["mxnet", "pytorch"]  # the code names both modules
    numpy_only = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np")])
    assert frameworks.runs(numpy_only)[0][2] == ["mxnet", "pytorch"]  # framework-free: both
    mxnet_only = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from dlbook import mxnet as dl")])
    assert frameworks.runs(mxnet_only)[0][2] == ["mxnet"]
    with pytest.raises(ValueError, match="tag it with one framework"):
        frameworks.cell_frameworks({"metadata": {"tags": ["mxnet", "pytorch"]}})


def test_only_code_changes_of_a_framework_change_its_execution_key():
    nb = _fixture()

    def keys(notebook, fingerprint="f"):
        return {fw: frameworks.execution_key(frameworks.split(notebook, fw), fw, "book/c.md", fingerprint)
                for fw in frameworks.FRAMEWORKS}

    before = keys(nb)
    prose = copy.deepcopy(nb)
    prose.cells[0].source += "\n\nA new sentence."
    hidden = copy.deepcopy(nb)
    pytorch_cell = next(c for c in _code(hidden) if "pytorch" in c.metadata.get("tags", []))
    pytorch_cell.metadata["tags"] = pytorch_cell.metadata["tags"] + ["remove-input"]
    assert keys(prose) == before and keys(hidden) == before
    code = copy.deepcopy(nb)
    next(c for c in _code(code) if "pytorch" in c.metadata.get("tags", [])).source += "\nx = 1"
    changed = keys(code)
    assert changed["mxnet"] == before["mxnet"] and changed["pytorch"] != before["pytorch"]
    shared = copy.deepcopy(nb)
    next(c for c in _code(shared) if not c.metadata.get("tags")).source += "\nx = 1"
    assert all(keys(shared)[fw] != before[fw] for fw in before)
    raises = copy.deepcopy(nb)
    _code(raises)[-1].metadata.setdefault("tags", []).append("raises-exception")
    assert keys(raises)["mxnet"] != before["mxnet"]
    assert keys(nb, "other dlbook") != before
    assert frameworks.execution_key(frameworks.split(nb, "mxnet"), "mxnet", "book/d.md", "f") != before["mxnet"]


def _fixture_runs(nb):
    def outputs(framework):
        def of(source):
            if "6 * 7" in source:  # the same in both frameworks, however the stream was split
                return [_stream("shared: ")] + [_stream("42\n")] if framework == "pytorch" \
                    else [_stream("shared: 42\n")]
            if "total" in source:
                total = 6.0 if framework == "mxnet" else 12.0
                return [_glue("fixture_total", total), _stream(f"{framework} total: {total}\n")]
            return [_stream(f"{framework} ran\n")]
        return of
    return {fw: _executed(nb, fw, outputs(fw)) for fw in frameworks.FRAMEWORKS}


def test_merge_puts_each_run_outputs_on_its_cells_and_pairs_shared_cells_that_differ():
    nb = _fixture()
    merged = frameworks.merge(nb, _fixture_runs(nb))
    nbformat.validate(merged)
    code = _code(merged)
    by_source = {}
    for cell in code:
        by_source.setdefault(cell.source, []).append(cell)
    texts = lambda cell: "".join(o.get("text", "") for o in cell.outputs)  # noqa: E731
    for cell in code:
        tags = cell.metadata.get("tags", [])
        if "mxnet" in tags and "total" not in cell.source:
            assert texts(cell) == "mxnet ran\n"
        if "pytorch" in tags and "total" not in cell.source:
            assert texts(cell) == "pytorch ran\n"
    shared_same = by_source['print("shared:", 6 * 7)']
    assert len(shared_same) == 1 and texts(shared_same[0]) == "shared: 42\n"
    assert not shared_same[0].metadata.get("tags")
    pair = [c for c in code if "total" in c.source]
    assert [c.metadata["tags"] for c in pair] == [["mxnet"], ["pytorch"]]
    assert all(c.metadata["dlbook"]["shared"] for c in pair)
    assert texts(pair[0]) == "mxnet total: 6.0\n" and texts(pair[1]) == "pytorch total: 12.0\n"
    glued = [o.metadata["scrapbook"]["name"] for c in code for o in c.outputs if "scrapbook" in o.get("metadata", {})]
    assert glued == ["fixture_total__mxnet", "fixture_total__pytorch"]
    # Every merged cell keeps the line of its source cell; the pair shares one.
    lines = dict(zip(range(len(nb.cells)), nb.metadata.source_map))
    assert len(merged.metadata.source_map) == len(merged.cells)
    assert merged.metadata.source_map.count(lines[[i for i, c in enumerate(nb.cells)
                                                   if "total" in c.source][0]]) == 2
    assert len({c.get("id") for c in merged.cells}) == len(merged.cells)
    assert frameworks.merge(nb, _fixture_runs(nb)) == merged  # the same chapter merges the same


def test_merge_keeps_one_copy_of_a_shared_cell_whose_differences_are_not_shown():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(fw)", metadata={"tags": ["remove-output"]}),
        nbformat.v4.new_code_cell("record(acc)")])
    runs = {fw: _executed(nb, fw, lambda s, fw=fw: [_glue("acc", 0.5 if fw == "mxnet" else 0.6)]
                          + ([_stream(fw)] if "print" in s else [])) for fw in frameworks.FRAMEWORKS}
    merged = frameworks.merge(nb, runs)
    assert len(merged.cells) == 2  # hidden output, or only glued values differ: no pair
    names = [o.metadata["scrapbook"]["name"] for o in merged.cells[1].outputs]
    assert names == ["acc__mxnet", "acc__pytorch"]
    assert frameworks.records(runs["pytorch"]) == {"acc": 0.6}


def test_merge_of_a_failed_run_leaves_the_cells_it_did_not_reach_empty():
    nb = _fixture()
    runs = _fixture_runs(nb)
    failed = runs["pytorch"]
    reached = 2
    for cell in _code(failed)[reached:]:
        cell.outputs = []
    merged = frameworks.merge(nb, runs)
    pytorch_cells = [c for c in _code(merged) if "pytorch" in c.metadata.get("tags", [])]
    assert pytorch_cells[0].outputs and not pytorch_cells[-1].outputs


def test_a_chapter_run_once_counts_for_every_framework_it_serves():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("record(1.0)"),
                                         nbformat.v4.new_code_cell("print(1)")])
    run = _executed(nb, "mxnet", lambda s: [_glue("one", 1.0)] if "record" in s else [_stream("1\n")])
    merged = frameworks.merge(nb, {"mxnet": run}, {"mxnet": ["mxnet", "pytorch"]})
    assert [len(c.outputs) for c in merged.cells] == [2, 1]
    assert [o.metadata["scrapbook"]["name"] for o in merged.cells[0].outputs] == ["one__mxnet", "one__pytorch"]


def test_stream_chunks_and_object_addresses_do_not_make_outputs_differ():
    a = [_stream("loss 0.5\n"), _stream("done\n")]
    b = [_stream("loss 0."), _stream("5\ndone\n")]
    assert frameworks.visible_outputs(a) == frameworks.visible_outputs(b)
    x = [nbformat.v4.new_output("execute_result", data={"text/plain": "<Figure at 0x7f12ab34cd>"})]
    y = [nbformat.v4.new_output("execute_result", data={"text/plain": "<Figure at 0x7fffff0000>"})]
    assert frameworks.visible_outputs(x) == frameworks.visible_outputs(y)
    assert frameworks.visible_outputs(a) != frameworks.visible_outputs([_stream("loss 0.6\ndone\n")])


def test_readers_notebook_installs_first_and_reads_cleanly_in_jupyter():
    from IPython.core.inputtransformer2 import TransformerManager

    nb = _fixture()
    run = _fixture_runs(nb)["pytorch"]
    spec = "dlbook[torch] @ git+https://github.com/dlbook/dlbook@abc123"
    reader = frameworks.reader_notebook(run, ["pytorch"], lambda extras: spec)
    nbformat.validate(reader)
    first = reader.cells[0]
    assert first.cell_type == "code" and f'%pip install --quiet "{spec}"' in first.source
    python = TransformerManager().transform_cell(first.source)
    assert "run_line_magic('pip'" in python
    # In an environment with dlbook and torch (this one) the cell installs nothing.
    calls = []
    exec(python, {"get_ipython": lambda: type("IP", (), {"run_line_magic": lambda *a: calls.append(a)})()})
    assert calls == []
    markdown = "\n".join(c.source for c in reader.cells if c.cell_type == "markdown")
    assert ":::{ko}" not in markdown and '<div lang="ko">' in markdown
    assert "source_map" not in reader.metadata and "jupytext" not in reader.metadata
    assert not any("dlbook" in c.metadata for c in reader.cells)
    assert any(c.outputs for c in reader.cells if c.cell_type == "code")
    assert len(reader.cells) == len(run.cells) + 1


def test_notebook_markdown_reads_cleanly_in_jupyter():
    text = "::::{ko}\n한국어 **굵게**\n\n:::{note}\n노트\n:::\n::::\n\n:::{en}\nEnglish\n:::"
    out = frameworks.jupyter_markdown(text)
    assert "{ko}" not in out and "{en}" not in out
    assert out.count('<div lang="ko">') == 1 and out.count('<div lang="en">') == 1
    assert out.count("</div>") == 2
    assert ":::{note}" in out  # other directives are left alone


def test_launch_links_point_to_the_notebooks_branch_of_the_repository():
    url, slug = build_book.repository(ROOT)
    assert (url, slug) == ("https://github.com/dlbook/dlbook", "dlbook/dlbook")  # pyproject's Source
    assert build_book.launch_links(slug, "pytorch", "perceptron") == {
        "colab": "https://colab.research.google.com/github/dlbook/dlbook/blob/notebooks/pytorch/perceptron.ipynb"}
    assert build_book.launch_links(slug, "mxnet", "perceptron") == {
        "binder": "https://mybinder.org/v2/gh/dlbook/dlbook/notebooks?labpath=mxnet%2Fperceptron.ipynb"}
    assert build_book.notebook_name("book/perceptron") == "perceptron"
    files = build_book.binder_files(url, "abc123", slug)
    assert files["runtime.txt"] == "python-3.11\n"
    # One Binder environment for every chapter: Korean text's extra and the Bible's program too.
    assert files["requirements.txt"] == "dlbook[mxnet,text] @ git+https://github.com/dlbook/dlbook@abc123\n"
    assert files["apt.txt"] == "bible-kjv\n"
    assert build_book.requirement(url, "abc123", "pytorch").startswith("dlbook[torch] @ git+")
    assert build_book.requirement(url, "abc123", "pytorch", ["text"]).startswith("dlbook[torch,text] @ git+")


@pytest.mark.parametrize("chapter, needs", [
    ("embeddings", (["text"], [])),  # dlbook.text: konlpy's text, sentencepiece, kiwipiepy
    ("rnn", ([], ["bible-kjv"])),  # sequence.load_kjv reads the `bible` program
    ("attention", (["text"], ["bible-kjv"])),        # the bills (konlpy) since the Korean section
    ("perceptron", ([], [])),
])
def test_each_chapter_names_what_its_readers_must_install(chapter, needs):
    assert frameworks.reader_needs(frameworks.read_chapter(ROOT / "book" / f"{chapter}.md")) == needs


def test_the_install_cell_checks_for_exactly_the_packages_of_each_extra():
    """EXTRA_NEEDS' modules are the import names of the extra's requirements in pyproject.toml."""
    import re
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]
    for extra, need in frameworks.EXTRA_NEEDS.items():
        names = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower().replace("-", "_") for r in extras[extra]}
        assert set(need["modules"]) == names, (extra, need["modules"], sorted(names))


def test_the_install_cell_installs_the_extras_and_debian_packages_a_chapter_needs(monkeypatch):
    import importlib.util

    from IPython.core.inputtransformer2 import TransformerManager

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from dlbook.torch import sequence, text\nimport torch"),
        nbformat.v4.new_code_cell('ruth = sequence.load_kjv("Ruth")\ntext.load_korean_text("bills")')])
    url, _ = build_book.repository(ROOT)
    reader = frameworks.reader_notebook(nb, ["pytorch"],
                                        lambda extras: build_book.requirement(url, "abc123", "pytorch", extras))
    first = reader.cells[0].source
    assert '%pip install --quiet "dlbook[torch,text] @ git+https://github.com/dlbook/dlbook@abc123"' in first
    python = TransformerManager().transform_cell(first)

    def run(**missing):
        calls = []
        shell = type("IP", (), {"run_line_magic": lambda self, *a: calls.append(("pip", a[1])),
                                "system": lambda self, command: calls.append(("system", command))})()
        with monkeypatch.context() as m:
            find_spec, which = importlib.util.find_spec, shutil.which
            m.setattr(importlib.util, "find_spec",
                      lambda name, *a: None if name in missing.get("modules", ()) else find_spec(name, *a))
            m.setattr(shutil, "which", lambda name: None if name in missing.get("programs", ()) else which(name))
            exec(python, {"get_ipython": lambda: shell})
        return calls

    assert run() == []  # this environment has them all (CI installs bible-kjv)
    calls = run(modules=["kiwipiepy"], programs=["bible"])  # a fresh Colab runtime
    assert [kind for kind, _ in calls] == ["pip", "system"], calls
    assert "dlbook[torch,text]" in calls[0][1] and "apt-get -qq install -y bible-kjv" in calls[1][1]


def test_the_site_extension_and_the_tools_agree_on_the_frameworks():
    import frameworks_site

    assert frameworks_site.FRAMEWORKS == tuple((fw, info["label"])
                                               for fw, info in frameworks.FRAMEWORKS.items())


def _cell(framework=None, text="x"):
    from docutils import nodes

    classes = ["cell"] + ([f"tag_{framework}"] if framework else [])
    cell = nodes.container(nb_element="cell_code", classes=classes)
    cell += nodes.literal_block(text=text)
    return cell


def test_consecutive_framework_cells_become_one_tab_set_and_others_stay():
    from docutils import nodes
    from docutils.utils import new_document

    import frameworks_site

    doc = new_document("test")
    section = nodes.section()
    doc += section
    section += [_cell("mxnet", "a"), _cell("pytorch", "b"), nodes.paragraph(text="prose"),
                _cell(None, "shared"), _cell("mxnet", "only mxnet")]
    assert frameworks_site.group_framework_cells(doc) == 2
    kinds = [c.get("design_component") or c.tagname for c in section.children]
    assert kinds == ["tab-set", "paragraph", "container", "tab-set"]
    first, last = section.children[0], section.children[3]
    labels = [item.children[0] for item in first.children]
    assert [(r.astext(), r["sync_group"], r["sync_id"]) for r in labels] == [
        ("MXNet", "framework", "mxnet"), ("PyTorch", "framework", "pytorch")]
    assert [item.children[1].astext() for item in first.children] == ["a", "b"]
    assert [item.get("selected") for item in first.children] == [True, False]
    missing = last.children[1].children[1]  # the PyTorch tab of an MXNet-only cell: a note
    assert "only in the MXNet version" in missing.astext() and "MXNet 판에만" in missing.astext()


def test_execution_statistics_show_each_framework_run():
    import frameworks_site

    stats = {"chapters": {
        "book/a": {"mxnet": {"seconds": 3.25, "served": ["mxnet"], "ok": True, "executed": True,
                             "executed_at": "2026-12-01 10:00:00"},
                   "pytorch": {"seconds": 4.5, "served": ["pytorch"], "ok": False, "executed": True,
                               "executed_at": "2026-12-01 10:00:01"}},
        "book/b": {"mxnet": {"seconds": 1.0, "served": ["mxnet", "pytorch"], "ok": True,
                             "executed": False, "executed_at": "2026-11-30 09:00:00"}}}}
    rows = frameworks_site.statistics_table(stats, "en")[2:]
    assert rows[0] == "| {doc}`/book/a` | 3.2 | 4.5 | 2026-12-01 10:00:01 | executed | ❌ |"
    assert rows[1] == "| {doc}`/book/b` | 1.0 | (same notebook) | 2026-11-30 09:00:00 | cache | ✅ |"


# ------------------------------------------------------------- the build of a two-framework book
@pytest.mark.slow
def test_build_runs_each_framework_and_reexecutes_only_what_changed(tmp_path):
    chapter = TWO_FRAMEWORKS.read_text(encoding="utf-8")
    book = make_book(tmp_path / "book", {"book/index": INDEX_PAGE, "book/two": chapter})
    first = run_build(book)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-3000:]
    report = json.loads((book / "_build" / "execution-times.json").read_text())
    assert report["executed_runs"] == ["book/two.md [mxnet]", "book/two.md [pytorch]"]
    html = (book / "_build" / "html" / "book" / "two.html").read_text(encoding="utf-8")
    assert html.count('class="sd-tab-set dlbook-framework-tabs') == 3
    assert "This cell exists only in the MXNet version." in html
    assert "mxnet total: 6.0" in html and "pytorch total: 12.0" in html and "shared: 42" in html
    assert html.count("shared: 42") == 1  # equal outputs: shown once
    records = json.loads((book / "_build" / ".dlbook" / "records.json").read_text())
    assert records["chapters"]["book/two.md"]["values"] == {"mxnet": {"fixture_total": 6.0},
                                                           "pytorch": {"fixture_total": 12.0}}
    # A prose edit executes nothing and shows on the page.
    (book / "book" / "two.md").write_text(chapter + "\n:::{ko}\n새 문장.\n:::\n\n:::{en}\nA new sentence.\n:::\n",
                                          encoding="utf-8")
    prose = run_build(book)
    assert prose.returncode == 0, prose.stdout[-3000:]
    assert json.loads((book / "_build" / "execution-times.json").read_text())["executed_runs"] == []
    assert "A new sentence." in (book / "_build" / "html" / "book" / "two.html").read_text(encoding="utf-8")
    # A code edit in a PyTorch cell executes the PyTorch notebook only.
    edited = (book / "book" / "two.md").read_text(encoding="utf-8").replace(
        "torch.tensor([1.0, 2.0, 3.0])", "torch.tensor([1.0, 2.0, 4.0])")
    (book / "book" / "two.md").write_text(edited, encoding="utf-8")
    code = run_build(book)
    assert code.returncode == 0, code.stdout[-3000:]
    assert json.loads((book / "_build" / "execution-times.json").read_text())["executed_runs"] == [
        "book/two.md [pytorch]"]
    html = (book / "_build" / "html" / "book" / "two.html").read_text(encoding="utf-8")
    assert "pytorch total: 14.0" in html and "mxnet total: 6.0" in html


def test_the_frameworks_module_doctests_hold():
    import doctest

    assert doctest.testmod(frameworks).failed == 0

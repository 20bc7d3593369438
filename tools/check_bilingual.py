"""Check that a MyST chapter says everything in Korean and in English.

    .venv/bin/python -m tools.check_bilingual book/*.md

The chapter is read with MyST's own parser (markdown-it-py with the extensions of
``_config.yml``), as Jupyter Book reads it, so it needs the book's environment. Rules (a chapter breaks one -> a message with file and line):
* every prose line sits inside a ``:::{ko}`` or ``:::{en}`` block; outside them
  only headings, code cells, display math, labels, comments, cell breaks
  (``+++``) and language-neutral directives (figures without captions, ...) may stand;
* ``ko`` and ``en`` blocks come in pairs, one of each, next to each other;
* a ``ko`` block contains Hangul; an ``en`` block is mostly Latin text;
* every heading carries both languages: "활성화 함수 (Activation Functions)";
* Korean particles follow one spacing rule (in ``ko`` blocks and headings): attached to a
  Latin word, a number, a closing parenthesis, ``%`` or a bold span ("MLP는", "Gluon의",
  "2층", "(MSE)는", "**비율**을"), and one space after inline code or inline math
  ("`x` 는", "$x$ 는"), which is what most chapters do.

    .venv/bin/python -m tools.check_bilingual --fix-spacing book/*.md   # rewrite the spacing in place
"""
import functools
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a file (python tools/check_bilingual.py): import as a package
    sys.path[0] = str(ROOT)

from book._ext.bilingual_text import HANGUL, HANGUL_CLASS, LANG_FENCE, LANGUAGES  # noqa: E402

LATIN = re.compile(r"[A-Za-z]")
# Directives whose content is not prose (code, math, layout).
NEUTRAL_DIRECTIVES = {"code-cell", "math", "toctree", "tableofcontents", "raw", "image",
                      "figure-md", "glue:figure", "nb-exec-table", "autosummary",
                      "automodule", "autofunction", "autoclass", "bibliography", "eval-rst"}


# The chapter as MyST reads it -------------------------------------------------------------
#: Blocks that are neither prose nor a language block and do not break a ko/en pair: the
#: front matter, cell breaks (``+++``), labels (``(name)=``), comments (``%`` lines; HTML
#: comments are html_block).
_INVISIBLE = {"front_matter", "myst_block_break", "myst_target", "myst_line_comment"}
#: Blocks that are code or math, never prose: fences (code cells) and display math.
_CODE = {"fence", "math_block", "math_block_label", "amsmath"}


@functools.cache
def _markdown(nested=False):
    """MyST's own Markdown parser with the book's extensions (``_config.yml``).

    ``nested``: for a directive's body, where a ``---`` line is a rule, not front matter.
    """
    try:
        from markdown_it.renderer import RendererHTML
        from myst_parser.config.main import MdParserConfig
        from myst_parser.parsers.mdit import create_md_parser
    except ImportError as err:
        raise ImportError(f"check_bilingual reads the chapters with MyST's parser, which this "
                          f"Python ({sys.executable}) lacks ({err}). Run it with the book's "
                          "environment: .venv/bin/python -m tools.check_bilingual book/*.md") from err
    from tools.build_book import load_config

    config = MdParserConfig(enable_extensions=set(load_config(ROOT)["extensions"]))
    md = create_md_parser(config, RendererHTML)
    return md.disable("front_matter") if nested else md


def _blocks(text, nested=False):
    """The top-level blocks of MyST source ``text`` (markdown-it syntax tree nodes)."""
    tokens = _markdown(nested).parse(text)
    from markdown_it.tree import SyntaxTreeNode

    return SyntaxTreeNode(tokens).children


def _language(node):
    """``ko`` or ``en`` for a language block (``:::{ko}``, ``::::{en}``), else None."""
    if node.type != "colon_fence":
        return None
    m = LANG_FENCE.match(node.markup + node.info.strip())
    return m.group(2) if m else None


def _directive(node):
    """The directive a fence opens (``code-cell`` for ``{code-cell} ipython3``), else None."""
    m = re.match(r"\{([\w:-]+)\}", node.info.strip())
    return m.group(1) if m else None


def _closed(node, lines):
    """Whether a colon fence ends with its closing line (else it runs to the end of the file)."""
    start, end = node.map
    last = lines[end - 1].strip() if end - 1 > start else ""
    return bool(last) and set(last) == {":"} and len(last) >= len(node.markup)


def _lines(node, kinds):
    """Line indices of ``node`` (relative to its source) that lie in no descendant of ``kinds``."""
    inside = set(range(*node.map))
    for child in node.walk(include_self=False):
        if child.type in kinds and child.map:
            inside -= set(range(*child.map))
    return sorted(inside)


def _prose_lines(text, offset):
    """Indices (``offset`` + line) of the prose lines of a block's body: not code, not math,
    not the fence lines of a nested directive (whose body counts)."""
    out = []
    for block in _blocks(text, nested=True):
        for node in block.walk():
            if node.type == "colon_fence":
                out += _prose_lines(node.content, offset + node.map[0] + 1)
            elif node.type in ("inline", "html_block") and node.map:
                out += [offset + i for i in range(*node.map)]
    return out


def _korean_lines(lines):
    """Indices of the lines that the spacing rule applies to: ko blocks and headings."""
    out = []
    for node in _blocks("\n".join(lines)):
        if _language(node) == "ko":
            out += _prose_lines(node.content, node.map[0] + 1)
        elif node.type == "heading":
            out += list(range(*node.children[0].map))
    return sorted(set(out))


# Particle spacing ---------------------------------------------------------------------
# A Korean particle (josa) or copula form is recognised only as a whole Hangul word, so
# that words which merely start like one ("이상", "가중치", "로그", "과적합", "에포크")
# are never taken for a particle.
_BASE = ("은 는 이 가 을 를 의 에 에서 에게 으로 로 와 과 도 만 까지 부터 보다 처럼 만큼 마다 "
         "이다 입니다 인 일 이고 이며 이면 이나 이라 이라는 이라고 이란 이므로 이지만 이어야 "
         "이었습니다 라는 라고 란 였습니다").split()
_STACKABLE = "에 에서 에게 으로 로 와 과 까지 부터 보다 처럼 만큼 마다 만".split()
PARTICLES = frozenset(_BASE + [a + b for a in _STACKABLE for b in ("는", "도", "의", "만", "은")]
                      + ["으로서", "로서", "으로써", "로써", "만으로", "만이", "만을"])
#: Counters attached to an Arabic numeral ("2층", "10개", "3차원", "1998년").
COUNTERS = ("차원", "번째", "분의", "개", "층", "장", "년", "번", "배", "단계", "가지", "줄", "칸",
            "자리", "명", "회", "차")
_MASK_CODE, _MASK_MATH = "\x01", "\x02"
_SPAN = re.compile(r"(`+)(.+?)\1|(\${1,2})(.+?)\3")
_HANGUL_WORD = f"([{HANGUL_CLASS}]+)(?![{HANGUL_CLASS}])"
# Something a particle attaches to: a Latin letter or digit (outside code and math), a
# closing parenthesis, a percent sign, or the closing ** of a bold span; one space or more.
_ATTACHED = re.compile(r"([A-Za-z0-9)%]|(?<=[^\s*])\*\*)( +)" + _HANGUL_WORD)
_AFTER_SPAN = re.compile(r"([" + _MASK_CODE + _MASK_MATH + r"][`$]+)" + _HANGUL_WORD)
_PUNCT = set("!\"#%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _mask(line):
    """The line with the contents of inline code and math replaced by placeholders."""
    def repl(m):
        if m.group(1) and m.start() > 0 and line[m.start() - 1] == "}":
            return "0" * len(m.group(0))  # a role ({recorded}`...`) renders as a word or number
        if m.group(1):
            return m.group(1) + _MASK_CODE * len(m.group(2)) + m.group(1)
        return m.group(3) + _MASK_MATH * len(m.group(4)) + m.group(3)
    return _SPAN.sub(repl, line)


def _is_particle(word, after_digit):
    if word in PARTICLES:
        return True
    if after_digit:
        for c in COUNTERS:
            if word.startswith(c) and (word == c or word[len(c):] in PARTICLES
                                       or word[len(c):].startswith("짜리")):
                return True
    return False


def _bold_closings(masked):
    """Positions of the ``**`` that close a bold span in one line."""
    marks = [m.start() for m in re.finditer(r"\*\*", masked)]
    return set(marks[1::2])


def spacing_fixes(line):
    """(column, wrong, right) for every particle spaced against the rule in one line."""
    masked = _mask(line)
    closings = _bold_closings(masked)
    fixes = []
    for m in _ATTACHED.finditer(masked):
        before, word = m.group(1), m.group(3)
        if before == "**":
            if m.start(1) not in closings or masked[m.start(1) - 1] in _PUNCT:
                continue  # an opening **, or one that CommonMark closes only before a space
        if _is_particle(word, before.isdigit()):
            fixes.append((m.start(2), m.group(2), ""))
    for m in _AFTER_SPAN.finditer(masked):
        if _is_particle(m.group(2), True):  # "$n$ 개" like "$n$ 은"
            fixes.append((m.end(1), "", " "))
    return sorted(fixes)


def fix_spacing_line(line):
    """``line`` with the particle spacing rule applied."""
    for col, wrong, right in reversed(spacing_fixes(line)):
        line = line[:col] + right + line[col + len(wrong):]
    return line


def spacing_problems(text, name="<text>"):
    """Messages for every particle that breaks the spacing rule in a chapter's source."""
    lines = text.split("\n")
    problems = []
    for i in _korean_lines(lines):
        for col, wrong, right in spacing_fixes(lines[i]):
            start = max(0, col - 12)
            context = lines[i][start:col + 6]
            if right:
                rule = "put one space between inline code or math and a particle"
            else:
                rule = "attach the particle to the word before it"
            problems.append(f"{name}:{i + 1}: particle spacing in {context!r}: {rule}")
    return problems


def fix_spacing(text):
    """``text`` with the spacing rule applied to its ko blocks and headings."""
    lines = text.split("\n")
    for i in _korean_lines(lines):
        lines[i] = fix_spacing_line(lines[i])
    return "\n".join(lines)


def check_text(text, name="<text>"):
    """Return a list of problems found in one chapter's MyST source."""
    lines = text.split("\n")
    problems = []
    blocks = []  # (lang, line number, what came before it)
    last_kind = None  # what the previous block was: 'ko', 'en' or 'other'
    for node in _blocks(text):
        lineno = node.map[0] + 1
        if node.type in _INVISIBLE or (node.type == "html_block"
                                       and node.content.lstrip().startswith("<!--")):
            continue
        lang = _language(node)
        if lang:
            if not _closed(node, lines):
                problems.append(f"{name}:{lineno}: `{lang}` block is never closed with {node.markup}")
                break
            body = node.content
            if lang == "ko" and not HANGUL.search(body):
                problems.append(f"{name}:{lineno}: `ko` block has no Korean text")
            if lang == "en":
                hangul, latin = len(HANGUL.findall(body)), len(LATIN.findall(body))
                if latin == 0 or hangul > 0.2 * latin:
                    problems.append(f"{name}:{lineno}: `en` block is not mostly English text")
            blocks.append((lang, lineno, last_kind))
            last_kind = lang
            continue
        last_kind = "other"
        directive = _directive(node) if node.type in ("fence", "colon_fence") else None
        if directive:  # a code cell or another directive
            if directive in NEUTRAL_DIRECTIVES:
                continue
            if node.type == "colon_fence":
                problems.append(f"{name}:{lineno}: directive `{directive}` outside a language block; "
                                "put it inside :::{ko} / :::{en} (one per language)")
            elif directive not in LANGUAGES:
                problems.append(f"{name}:{lineno}: directive `{directive}` outside a language block; "
                                "put prose directives inside :::{ko} / :::{en}")
        elif node.type == "heading":
            heading = node.children[0].content.strip()
            if not (HANGUL.search(heading) and LATIN.search(heading)):
                problems.append(f"{name}:{lineno}: heading {heading!r} must carry both languages, "
                                "e.g. '활성화 함수 (Activation Functions)'")
        elif node.type not in _CODE:
            for i in _lines(node, _CODE):
                if lines[i].strip():
                    problems.append(f"{name}:{i + 1}: prose outside a language block: "
                                    f"{lines[i].strip()[:60]!r}")
    # Pairing: each block must have its partner right before or after it.
    k = 0
    while k < len(blocks):
        lang, lineno, _ = blocks[k]
        if k + 1 < len(blocks) and blocks[k + 1][0] != lang and blocks[k + 1][2] == lang:
            k += 2
            continue
        other = "en" if lang == "ko" else "ko"
        problems.append(f"{name}:{lineno}: `{lang}` block has no `{other}` partner right after it")
        k += 1
    if not blocks:
        problems.append(f"{name}: no :::{{ko}} / :::{{en}} blocks at all")
    return problems + spacing_problems(text, name)


def check_file(path):
    path = Path(path)
    return check_text(path.read_text(encoding="utf-8"), str(path))


def main(argv=None):
    paths = list(argv if argv is not None else sys.argv[1:])
    fix = "--fix-spacing" in paths
    paths = [path for path in paths if path != "--fix-spacing"]
    try:
        if fix:
            for path in map(Path, paths):
                text = path.read_text(encoding="utf-8")
                fixed = fix_spacing(text)
                if fixed != text:
                    path.write_text(fixed, encoding="utf-8")
                    print(f"fixed particle spacing in {path}")
        problems = [p for path in paths for p in check_file(path)]
    except ImportError as err:  # a Python without MyST's parser (not the book's .venv)
        print(err, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    print(f"{len(paths)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Check that a MyST chapter says everything in Korean and in English.

    .venv/bin/python -m tools.check_bilingual book/*.md

Rules (a chapter breaks one -> a message with file and line):
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
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a file (python tools/check_bilingual.py): import as a package
    sys.path[0] = str(ROOT)

from book._ext.bilingual_text import HANGUL, HANGUL_CLASS  # noqa: E402
from book._ext.bilingual_text import LANG_FENCE as LANG_OPEN  # noqa: E402

LATIN = re.compile(r"[A-Za-z]")
FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})(.*)$")
COLON_OPEN = re.compile(r"^(:{3,})\{([\w:-]+)\}")
# Directives whose content is not prose (code, math, layout).
NEUTRAL_DIRECTIVES = {"code-cell", "math", "toctree", "tableofcontents", "raw", "image",
                      "figure-md", "glue:figure", "nb-exec-table", "autosummary",
                      "automodule", "autofunction", "autoclass", "bibliography", "eval-rst"}


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


def _korean_lines(lines):
    """Indices of the lines that the spacing rule applies to: ko blocks and headings."""
    out = []
    i = _strip_front_matter(lines)
    fence = None
    in_ko = None
    while i < len(lines):
        stripped = lines[i].strip()
        if fence:
            if stripped.startswith(fence):
                fence = None
        elif in_ko:
            if stripped == in_ko:
                in_ko = None
            elif FENCE_OPEN.match(stripped):
                fence = FENCE_OPEN.match(stripped).group(1)
            elif stripped.startswith("$$"):
                if not (stripped.count("$$") >= 2 and len(stripped) > 2):
                    fence = "$$"
            elif not COLON_OPEN.match(stripped) and not re.fullmatch(r":{3,}", stripped):
                out.append(i)
        else:
            m = LANG_OPEN.match(stripped)
            if m and m.group(2) == "ko":
                in_ko = m.group(1)
            elif FENCE_OPEN.match(stripped):
                fence = FENCE_OPEN.match(stripped).group(1)
            elif stripped.startswith("#"):
                out.append(i)
        i += 1
    return out


def spacing_problems(text, name="<text>"):
    """Messages for every particle that breaks the spacing rule in a chapter's source."""
    lines = text.splitlines()
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


def _strip_front_matter(lines):
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() == "---":
                return i + 1
    return 0


def check_text(text, name="<text>"):
    """Return a list of problems found in one chapter's MyST source."""
    lines = text.splitlines()
    problems = []
    i = _strip_front_matter(lines)
    blocks = []  # (lang, start line, end line)
    last_kind = None  # what the previous non-blank element was: 'ko', 'en' or 'other'
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        lineno = i + 1
        if not stripped:
            i += 1
            continue
        m = LANG_OPEN.match(stripped)
        if m:
            fence, lang = m.group(1), m.group(2)
            end = i + 1
            while end < len(lines) and lines[end].strip() != fence:
                end += 1
            if end >= len(lines):
                problems.append(f"{name}:{lineno}: `{lang}` block is never closed with {fence}")
                break
            body = "\n".join(lines[i + 1:end])
            if lang == "ko" and not HANGUL.search(body):
                problems.append(f"{name}:{lineno}: `ko` block has no Korean text")
            if lang == "en":
                hangul, latin = len(HANGUL.findall(body)), len(LATIN.findall(body))
                if latin == 0 or hangul > 0.2 * latin:
                    problems.append(f"{name}:{lineno}: `en` block is not mostly English text")
            blocks.append((lang, lineno, last_kind))
            last_kind = lang
            i = end + 1
            continue
        m = FENCE_OPEN.match(stripped)
        if m:  # code cell or fenced directive: skip to its closing fence
            fence = m.group(1)
            info = m.group(2).strip()
            directive = re.match(r"\{([\w:-]+)\}", info)
            if directive and directive.group(1) not in NEUTRAL_DIRECTIVES and directive.group(1) not in ("ko", "en"):
                problems.append(
                    f"{name}:{lineno}: directive `{directive.group(1)}` outside a language block; "
                    "put prose directives inside :::{ko} / :::{en}"
                )
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith(fence[0] * len(fence)):
                end += 1
            i = end + 1
            last_kind = "other"
            continue
        m = COLON_OPEN.match(stripped)
        if m:
            fence, directive = m.group(1), m.group(2)
            if directive not in NEUTRAL_DIRECTIVES:
                problems.append(
                    f"{name}:{lineno}: directive `{directive}` outside a language block; "
                    "put it inside :::{ko} / :::{en} (one per language)"
                )
            end = i + 1
            while end < len(lines) and lines[end].strip() != fence:
                end += 1
            i = end + 1
            last_kind = "other"
            continue
        if stripped.startswith("#"):
            heading = stripped.lstrip("#").strip()
            if not (HANGUL.search(heading) and LATIN.search(heading)):
                problems.append(
                    f"{name}:{lineno}: heading {heading!r} must carry both languages, "
                    "e.g. '활성화 함수 (Activation Functions)'"
                )
            last_kind = "other"
            i += 1
            continue
        if stripped.startswith("$$"):
            end = i if (stripped.count("$$") >= 2 and len(stripped) > 2) else i + 1
            while end < len(lines) and end != i and "$$" not in lines[end]:
                end += 1
            i = end + 1
            last_kind = "other"
            continue
        if (stripped == "+++" or stripped.startswith("+++ ") or re.match(r"^\(.+\)=$", stripped)
                or stripped.startswith("<!--") or stripped.startswith("%")):
            if stripped.startswith("<!--"):
                while i < len(lines) and "-->" not in lines[i]:
                    i += 1
            i += 1
            continue
        problems.append(f"{name}:{lineno}: prose outside a language block: {stripped[:60]!r}")
        last_kind = "other"
        i += 1
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
    if "--fix-spacing" in paths:
        paths.remove("--fix-spacing")
        for path in paths:
            path = Path(path)
            text = path.read_text(encoding="utf-8")
            fixed = fix_spacing(text)
            if fixed != text:
                path.write_text(fixed, encoding="utf-8")
                print(f"fixed particle spacing in {path}")
    problems = [p for path in paths for p in check_file(path)]
    for p in problems:
        print(p)
    print(f"{len(paths)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Check that a MyST chapter says everything in Korean and in English.

    python tools/check_bilingual.py book/*.md

Rules (a chapter breaks one -> a message with file and line):
* every prose line sits inside a ``:::{ko}`` or ``:::{en}`` block; outside them
  only headings, code cells, display math, labels, comments, cell breaks
  (``+++``) and language-neutral directives (figures without captions, ...) may stand;
* ``ko`` and ``en`` blocks come in pairs, one of each, next to each other;
* a ``ko`` block contains Hangul; an ``en`` block is mostly Latin text;
* every heading carries both languages: "활성화 함수 (Activation Functions)".
"""
import re
import sys
from pathlib import Path

HANGUL = re.compile(r"[\uac00-\ud7a3]")
LATIN = re.compile(r"[A-Za-z]")
LANG_OPEN = re.compile(r"^(:{3,})\{(ko|en)\}\s*$")
FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})(.*)$")
COLON_OPEN = re.compile(r"^(:{3,})\{([\w:-]+)\}")
# Directives whose content is not prose (code, math, layout).
NEUTRAL_DIRECTIVES = {"code-cell", "math", "toctree", "tableofcontents", "raw", "image",
                      "figure-md", "glue:figure", "nb-exec-table", "autosummary",
                      "automodule", "autofunction", "autoclass", "bibliography", "eval-rst"}


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
    return problems


def check_file(path):
    path = Path(path)
    return check_text(path.read_text(encoding="utf-8"), str(path))


def main(argv=None):
    paths = argv if argv is not None else sys.argv[1:]
    problems = [p for path in paths for p in check_file(path)]
    for p in problems:
        print(p)
    print(f"{len(paths)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

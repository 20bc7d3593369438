"""What the published site serves itself, and what readers can download.

* **Offline math.** MathJax 3 (the ``tex-mml-chtml`` component with its fonts)
  comes from the PyPI package ``sphinx-mathjax-offline`` (pinned in
  ``constraints.txt``) and is copied to ``_static/mathjax``; ``mathjax_path``
  in ``_config.yml`` points there. No page loads MathJax from a CDN. Only the
  configured combined component is copied (the other top-level bundles, which
  no page loads, are left out), with the folders it loads from on demand: the
  menu's renderers, the accessibility explorer with its speech-rule engine and
  the engine's locale files (``sre/mathmaps``). The engine carries three
  addresses on cdn.jsdelivr.net -- its default folder of locale files (replaced
  in the browser by the local ``[sre]`` folder) and two scripts that only
  Internet Explorer would load; :func:`offline_mathjax_text` points them at
  ``about:blank``, so that no menu option can make a page reach outside the site.
* **No other remote scripts.** sphinx-thebe (always loaded by Jupyter Book)
  writes the address of its bundle on a CDN into every page although this book
  has no live-code button; those two script tags are dropped.
* **Hangul font.** Readers whose system has no Korean font still see Korean:
  ``_static/fonts/dlbook-hangul.woff`` and ``dlbook-hangul-bold.woff`` are
  NanumGothic and NanumGothic Bold (SIL OFL, shipped by the ``koreanize-matplotlib``
  dependency) cut down to the 2,350 common Hangul syllables plus every Hangul
  character of the site. ``bilingual.css`` declares them with a Hangul
  ``unicode-range`` and the common Korean system fonts as ``local()`` sources
  first, so a browser downloads them only where the reader has none of those.
* **Notebook downloads** (one per framework) are ``frameworks_site.py``'s.
* **Links in inherited docstrings.** MXNet's docstrings, which the API reference
  shows for dlbook's blocks, link to mxnet.apache.org with site-relative addresses;
  they are made absolute so that they do not point into this site.
"""
import hashlib
import re
import shutil
from pathlib import Path

from sphinx.util import logging
from sphinx.util.fileutil import copy_asset

from bilingual_text import HANGUL

logger = logging.getLogger(__name__)

FONT_NAME = "dlbook-hangul.woff"
# Web font file -> NanumGothic file of koreanize-matplotlib.
FONTS = {FONT_NAME: "NanumGothic.ttf", "dlbook-hangul-bold.woff": "NanumGothicBold.ttf"}
# Script tags whose body or address points off the site (sphinx-thebe's CDN bundle).
REMOTE_SCRIPT = re.compile(r"https?://", re.IGNORECASE)
DROPPED_SCRIPTS = {"sphinx-thebe.js"}


# ---------------------------------------------------------------- MathJax
def mathjax_source():
    """The folder of MathJax 3's browser components (es5), from sphinx-mathjax-offline."""
    from importlib import metadata

    try:
        dist = metadata.distribution("sphinx-mathjax-offline")
    except metadata.PackageNotFoundError as exc:
        raise RuntimeError("sphinx-mathjax-offline is not installed: "
                           "pip install -c constraints.txt -e '.[book]'") from exc
    folder = Path(dist.locate_file("sphinx-mathjax-offline/static/mathjax"))
    if not (folder / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"MathJax's tex-mml-chtml.js is missing from {folder}")
    return folder


MATHJAX_CDN = re.compile(r"https?://cdn\.jsdelivr\.net/npm/")
MATHJAX_OFFLINE = "about:blank#offline/"


def offline_mathjax_text(text):
    """``text`` (a MathJax component) with every cdn.jsdelivr.net address made inert.

    >>> offline_mathjax_text('n.url="https://cdn.jsdelivr.net/npm/speech-rule-engine@"+v')
    'n.url="about:blank#offline/speech-rule-engine@"+v'
    """
    return MATHJAX_CDN.sub(MATHJAX_OFFLINE, text)


def mathjax_excluded(component):
    """The copy's filter: top-level bundles other than ``component``, and latest.js."""
    def excluded(path):
        # latest.js exists only to fetch "the latest MathJax" from a CDN.
        return "/" not in path and path.endswith(".js") and path != component
    return excluded


def copy_mathjax(app, exc):
    if app.builder.format != "html" or exc is not None:
        return
    component = Path(app.config.mathjax_path).name
    target = Path(app.outdir) / "_static" / "mathjax"
    shutil.rmtree(target, ignore_errors=True)  # no bundle of an earlier build stays behind
    copy_asset(str(mathjax_source()), str(target), excluded=mathjax_excluded(component))
    if not (target / component).is_file():
        raise RuntimeError(f"mathjax_path names {app.config.mathjax_path}, which "
                           f"sphinx-mathjax-offline does not ship")
    for path in target.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        if MATHJAX_CDN.search(text):
            path.write_text(offline_mathjax_text(text), encoding="utf-8")


def drop_remote_scripts(app, pagename, templatename, context, doctree):
    """Remove script tags that name a remote address (sphinx-thebe's CDN bundle)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    kept = []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""
        body = (getattr(script, "attributes", None) or {}).get("body", "")
        if Path(str(filename).split("?")[0]).name in DROPPED_SCRIPTS:
            continue
        if REMOTE_SCRIPT.search(body) and "THEBE" in body:
            continue
        if REMOTE_SCRIPT.match(str(filename)) and "mathjax" not in str(filename).lower():
            logger.warning(f"[site_assets] {pagename}: remote script {filename} "
                           "(serve it from _static instead)")
        kept.append(script)
    context["script_files"] = kept


# ---------------------------------------------------------------- Hangul font
def font_source(name="NanumGothic.ttf"):
    import koreanize_matplotlib

    path = Path(koreanize_matplotlib.__file__).parent / "fonts" / name
    if not path.is_file():
        raise RuntimeError(f"{name} not found at {path}")
    return path


def common_hangul():
    """The 2,350 Hangul syllables of KS X 1001 (those EUC-KR can encode)."""
    chars = set()
    for code in range(0xAC00, 0xD7A4):
        ch = chr(code)
        try:
            encoded = ch.encode("euc-kr")
        except UnicodeEncodeError:
            continue
        if len(encoded) == 2:  # others are 8-byte jamo make-up sequences
            chars.add(ch)
    return chars


def site_hangul(outdir):
    chars = set()
    for path in Path(outdir).rglob("*.html"):
        chars.update(HANGUL.findall(path.read_text(encoding="utf-8", errors="replace")))
    return chars


def subset_font(source, chars, target):
    """Write the glyphs of `chars` from the TrueType font `source` as a WOFF file."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False
    options.notdef_outline = True
    # VTT hinting sources (TSI*) cannot be subset: drop them rather than warn.
    options.drop_tables += ["TSI0", "TSI1", "TSI2", "TSI3", "TSI5"]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    subset.save_font(font, str(target), options)


def write_hangul_font(app, exc):
    if app.builder.format != "html":
        return
    chars = sorted(common_hangul() | site_hangul(app.outdir))
    cache_dir = Path(app.outdir).parent / ".dlbook-fonts"
    for name, ttf in FONTS.items():
        source = font_source(ttf)
        key = hashlib.sha256(("".join(chars) + ttf).encode()).hexdigest()[:16]
        cache = cache_dir / f"{source.stem}-{key}.woff"
        if not cache.is_file():
            cache_dir.mkdir(parents=True, exist_ok=True)
            for old in cache_dir.glob(f"{source.stem}-*.woff"):
                old.unlink()
            subset_font(source, chars, cache)
        target = Path(app.outdir) / "_static" / "fonts" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, target)


# ---------------------------------------------------------------- inherited docstrings
MXNET_DOCS = "https://mxnet.apache.org"
_SITE_RELATIVE_LINK = re.compile(r"<(/api/[^>]+)>`_")


def absolute_mxnet_links(app, what, name, obj, options, lines):
    """MXNet's docstrings (inherited by dlbook's blocks) link to its site with root-relative
    addresses (``</api/python/docs/...>`_``), which break on ours: make them absolute."""
    for i, line in enumerate(lines):
        if "</api/" in line:
            lines[i] = _SITE_RELATIVE_LINK.sub(lambda m: f"<{MXNET_DOCS}{m.group(1)}>`_", line)


def setup(app):
    app.connect("autodoc-process-docstring", absolute_mxnet_links)
    app.connect("html-page-context", drop_remote_scripts, priority=900)
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", write_hangul_font)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}

"""Korean figures render every glyph: text, negative numbers, and math text on log axes."""
import json
import logging
import os
import subprocess
import sys
import textwrap
import warnings

import matplotlib.pyplot as plt
import pytest

from book_helpers import ROOT, build_book
from dlbook.plot import use_korean_font


def _draw(fig):
    fig.savefig(os.devnull, format="svg")
    plt.close(fig)


def test_hangul_minus_and_math_text_have_glyphs(caplog):
    use_korean_font()
    fig, ax = plt.subplots()
    ax.semilogy([-2, -1, 0], [1e-3, 1e-1, 1e1])  # ticks 10^-3 ... use math text
    ax.set_title("로그 축 (log axis) $\\alpha - \\beta + \\mathcal{L}$")
    ax.set_xlabel("음수 (negative) −1")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph")
        with caplog.at_level(logging.WARNING, logger="matplotlib"):
            _draw(fig)
    problems = [r.getMessage() for r in caplog.records
                if "glyph" in r.getMessage().lower() or "not found" in r.getMessage()]
    assert not problems, problems


def test_a_font_cache_without_matplotlibs_own_fonts_is_repaired(monkeypatch):
    """A stale shared cache (written by a half-installed matplotlib) lacks STIX and cm fonts."""
    import matplotlib as mpl
    from matplotlib import font_manager

    data = os.path.realpath(mpl.get_data_path())
    stale = [f for f in font_manager.fontManager.ttflist
             if not os.path.realpath(f.fname).startswith(data)]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    font_manager.fontManager._findfont_cached.cache_clear()
    try:
        def stix():
            return font_manager.findfont(font_manager.FontProperties(family="STIXGeneral"),
                                         fallback_to_default=False)
        with pytest.raises(ValueError):  # the stale list really lacks it
            stix()
        use_korean_font()
        assert os.path.realpath(stix()).startswith(data)
    finally:
        font_manager.fontManager._findfont_cached.cache_clear()


def test_without_a_hangul_default_font_the_check_would_fire(caplog):
    """The log message the build check looks for really appears when math text lacks glyphs."""
    import matplotlib as mpl

    use_korean_font()
    mpl.rcParams["font.family"] = ["DejaVu Sans"]  # no Hangul in math text's default font
    fig, ax = plt.subplots()
    ax.set_title("학습률 (learning rate) $\\eta$")
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        _draw(fig)
    mpl.rcdefaults()
    assert any("does not have a glyph" in r.getMessage() for r in caplog.records)


def test_patched_font_has_hangul_and_the_minus_sign():
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    from dlbook.plot import KOREAN_FAMILY

    assert use_korean_font() == KOREAN_FAMILY
    path = font_manager.findfont(font_manager.FontProperties(family=KOREAN_FAMILY),
                                 fallback_to_default=False)
    cmap = TTFont(path).getBestCmap()
    assert all(code in cmap for code in (0xD55C, 0xAE00, 0x2212, 0x03B1))  # 한, 글, −, α


def test_build_check_catches_both_kinds_of_missing_glyph_messages(tmp_path):
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stderr",
         "text": "UserWarning: Glyph 54876 (\\N{HANGUL SYLLABLE}) missing from font(s) DejaVu Sans.\n"},
        {"output_type": "stream", "name": "stderr",
         "text": ["Font 'default' does not have a glyph for '\\u2212' [U+2212]\n"]},
        {"output_type": "stream", "name": "stdout", "text": "all fine\n"},
    ]}]}
    folder = tmp_path / "jupyter_execute"
    folder.mkdir()
    (folder / "chapter.ipynb").write_text(json.dumps(nb))
    found = build_book.glyph_warnings(tmp_path)
    assert len(found) == 2 and all(f.startswith("chapter.ipynb cell 0") for f in found)


OMP_VARS = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def _omp_after_import(**env_extra):
    code = "import os, dlbook.mxnet; print(*(os.environ.get(k, '-') for k in %r))" % (OMP_VARS,)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=True).stdout.split()


def test_omp_defaults_are_set_before_mxnet_loads():
    assert _omp_after_import() == [str(os.cpu_count()), "ACTIVE", "300000"]
    assert _omp_after_import(OMP_NUM_THREADS="1")[0] == "1"  # a user's own setting wins
    assert _omp_after_import(OMP_WAIT_POLICY="PASSIVE")[1:] == ["PASSIVE", "-"]
    assert _omp_after_import(GOMP_SPINCOUNT="0")[1:] == ["-", "0"]


_IDLE_CPU = textwrap.dedent("""
    import resource, time
    import dlbook.mxnet, mxnet as mx    # dlbook.mxnet sets the OpenMP defaults, then loads MXNet
    a = mx.np.ones((500, 500))
    for _ in range(20):
        mx.np.exp(a @ a).wait_to_read()      # parallel regions on every core
    time.sleep(0.5)
    before = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(1.5)
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    """)


def _idle_cpu_seconds(**env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    env.update(env_extra)
    return float(subprocess.run([sys.executable, "-c", _IDLE_CPU], capture_output=True,
                                text=True, env=env, cwd=ROOT, timeout=120, check=True).stdout)


def test_an_idle_process_does_not_keep_its_threads_spinning():
    """Bounded spinning: after the work is done the OpenMP threads sleep, using no CPU.

    The control is the same process with unbounded spinning (OMP_WAIT_POLICY=ACTIVE alone,
    which dlbook leaves as the user set it): its threads busy-wait through the idle 1.5 s.
    The spin count bounds work, not time, so on a loaded machine dlbook's process still
    uses almost nothing, while the control's spinning threads get less CPU; a machine
    where the control shows no spinning (one core: no OpenMP worker to spin) cannot tell."""
    control = _idle_cpu_seconds(OMP_WAIT_POLICY="ACTIVE")
    if control < 0.3:
        pytest.skip(f"the unbounded control spun only {control:.2f} CPU-s in 1.5 s idle: "
                    "no spinning OpenMP worker can be seen on this machine now")
    idle = _idle_cpu_seconds()
    assert idle < control / 10, (f"{idle:.2f} CPU-s used in 1.5 s of idleness "
                                 f"(unbounded spinning: {control:.2f})")

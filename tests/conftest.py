"""Tiny shared fixtures for dlbook's unit tests.

The repository's root ``conftest.py`` already seeds every test, selects the Agg
backend, closes figures and resets MXNet's NumPy mode afterwards.
"""
import matplotlib as mpl
import mxnet as mx
import numpy as onp
import pytest


@pytest.fixture(autouse=True)
def _restore_rcparams():
    """Undo rcParams changes (``use_korean_font``, ``setup``) after each test."""
    with mpl.rc_context():
        yield


@pytest.fixture(params=[False, True], ids=["without-set_np", "with-set_np"])
def np_mode(request):
    """Run a test both as a user who called ``mx.npx.set_np()`` and as one who did not."""
    if request.param:
        mx.npx.set_np()
    assert mx.util.is_np_array() is request.param
    return request.param


@pytest.fixture
def blobs():
    """Three well-separated classes in 4 dimensions: 30 examples, 10 per class."""
    rng = onp.random.default_rng(0)
    centers = onp.array([[4, 0, 0, 0], [0, 4, 0, 0], [0, 0, 4, 0]], dtype="float32")
    y = onp.repeat(onp.arange(3), 10).astype("int64")
    X = centers[y] + 0.3 * rng.standard_normal((30, 4)).astype("float32")
    return X.astype("float32"), y


@pytest.fixture(scope="session")
def built_book():
    """Run the real book build once per session (``tools/build_book.py``, as ``make book``).

    Shared by tests/test_book.py (execution, warnings, figures) and tests/test_site.py
    (the site in a real browser). Returns the finished process with its output.
    """
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    return subprocess.run([sys.executable, "-m", "tools.build_book"], cwd=root,
                          capture_output=True, text=True, timeout=3600)


@pytest.fixture(params=["mxnet", "torch"])
def dl(request):
    """The framework layer under test: ``dlbook.mxnet`` and ``dlbook.torch`` in turn.

    A test that takes ``dl`` runs once per framework, so both layers keep the same
    names, behaviour and error messages.
    """
    import importlib

    return importlib.import_module(f"dlbook.{request.param}")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The package built as a wheel from this checkout (``pip wheel --no-deps``), once per session."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(out), str(root)], check=True, timeout=600, cwd=root)
    wheels = list(out.glob("dlbook-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]

"""Settings for every test and doctest: Agg backend, seeds, MXNet's array mode reset.

Every test starts from the same seeds: Python's ``random``, NumPy, and the
generators of each installed framework (MXNet, PyTorch), through each layer's
``seed_everything``.
"""
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402


def _layer_seeders():
    """The ``seed_everything`` of each framework layer that can be imported here."""
    import importlib

    from dlbook._framework import FRAMEWORKS, available

    return [importlib.import_module(FRAMEWORKS[name][0] + ".session").seed_everything
            for name in available()]


@pytest.fixture(autouse=True)
def _isolate_global_state():
    """Seed everything before each test; afterwards undo global switches and close figures."""
    import matplotlib.pyplot as plt
    import mxnet as mx

    for seed_everything in _layer_seeders():
        seed_everything(0)
    start_dir = os.getcwd()
    yield
    plt.close("all")
    mx.npx.reset_np()
    try:
        here = os.getcwd()
    except FileNotFoundError:
        here = None
    if here != start_dir:
        os.chdir(start_dir)
        pytest.fail(f"The test left the working directory at {here or 'a deleted folder'}; "
                    f"it must return to {start_dir}.", pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """After the tests, show how long the book's execution took (written by the build)."""
    import json
    import time
    from pathlib import Path

    report = Path(__file__).parent / "_build" / "execution-times.json"
    started = getattr(config, "_dlbook_start", None)
    if not report.is_file() or started is None or report.stat().st_mtime < started:
        return
    data = json.loads(report.read_text())
    terminalreporter.section("book execution")
    for chapter, seconds in sorted(data.get("chapters", {}).items()):
        terminalreporter.write_line(f"{seconds:8.1f} s  {chapter}")
    total = sum(data.get("chapters", {}).values())
    terminalreporter.write_line(f"{total:8.1f} s  total chapter execution "
                                "(cached chapters show their recorded time)")
    terminalreporter.write_line(f"{data.get('wall_seconds', 0):8.1f} s  book build wall time "
                                f"(measured {time.strftime('%H:%M:%S', time.localtime(report.stat().st_mtime))})")


def pytest_configure(config):
    import time

    config._dlbook_start = time.time()

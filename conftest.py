"""Settings for every test and doctest: Agg backend, seeds, MXNet's array mode reset."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolate_global_state():
    """Seed everything before each test; afterwards undo global switches and close figures."""
    import matplotlib.pyplot as plt
    import mxnet as mx

    from dlbook.utils import seed_everything

    seed_everything(0)
    yield
    plt.close("all")
    mx.npx.reset_np()

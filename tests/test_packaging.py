"""The wheel: what it holds, what it depends on, and that it installs and trains as a user
would, in fresh virtual environments on Python 3.11 (each extra), 3.12 and 3.13."""
import email.parser
import shutil
import subprocess
import zipfile

import pytest

from book_helpers import ROOT, python_for as _python

#: A user's first script: train a tiny classifier on XOR through the public API of one
#: layer, print what came back (NumPy), then try the other layer.
TRAIN_SCRIPT = """
import importlib, sys
import numpy
layer = sys.argv[1]
dl = importlib.import_module("dlbook." + layer)
dl.seed_everything(0)
X, y = dl.xor_data(num_examples=200, noise=0.1)
trainer = dl.Trainer(dl.mlp(hidden=8, num_outputs=2, activation="tanh"), loss="cross_entropy",
                     optimizer="adam", learning_rate=0.05, metrics=["accuracy"])
history = trainer.fit(dl.load_array((X, y), batch_size=20), epochs=20, verbose=False)
predictions = trainer.predict(X)
print("version", dl.__version__)
print("accuracy", history.last("accuracy"))
print("predictions", type(predictions).__module__, predictions.shape)
print("font", dl.use_korean_font())
other = {"mxnet": "torch", "torch": "mxnet"}[layer]
try:
    importlib.import_module("dlbook." + other)
    print("other", "importable")
except ImportError as err:
    print("other", err)
"""


def _requires(wheel):
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(zf.read(name).decode())
    return meta.get_all("Requires-Dist"), meta.get_all("Provides-Extra"), meta["Requires-Python"]


def test_wheel_holds_the_package_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    outside = [n for n in names if not (n.startswith("dlbook/") or ".dist-info/" in n)]
    assert not outside, outside
    modules = {n for n in names if n.startswith("dlbook/") and n.endswith(".py")}
    assert {"dlbook/__init__.py", "dlbook/mxnet/__init__.py", "dlbook/mxnet/train.py",
            "dlbook/torch/__init__.py", "dlbook/torch/train.py"} <= modules
    # The two layers have the same public module names (a private one, such as the MXNet
    # layer's door to Gluon's internals, is the layer's own business).
    layer_modules = {layer: {n.split("/")[-1] for n in modules if n.startswith(f"dlbook/{layer}/")
                             and not n.split("/")[-1].startswith("_")}
                     for layer in ("mxnet", "torch")}
    assert "dlbook/mxnet/_gluon.py" in modules
    assert layer_modules["mxnet"] == layer_modules["torch"], layer_modules


def test_dependencies_are_ranges_and_the_frameworks_extras(wheel):
    requires, extras, python = _requires(wheel)
    pinned = [r for r in requires if "==" in r.split(";")[0]]
    assert not pinned, f"exact pins break installs on newer Pythons: {pinned}"
    assert {"mxnet", "torch"} <= set(extras)
    assert python == ">=3.9"
    by_name = {}
    for req in requires:
        by_name.setdefault(req.split(";")[0].split(">")[0].split("<")[0].strip(), []).append(req)
    # torch comes with the package where MXNet cannot be installed (Python >= 3.12) ...
    assert any("extra" not in r and "3.12" in r for r in by_name["torch"]), by_name["torch"]
    # ... and MXNet only with its extra, only where it installs.
    assert all('extra == "mxnet"' in r and "3.12" in r for r in by_name["mxnet"]), by_name["mxnet"]


def _fresh_venv_run(python, wheel, tmp_path, spec, layer, constraints=True):
    venv = tmp_path / "venv"
    try:
        subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300, cwd=tmp_path)
        py = str(venv / "bin" / "python")
        pip = [py, "-m", "pip", "install", "--quiet"]
        if constraints:
            pip += ["-c", str(ROOT / "constraints.txt")]
        subprocess.run(pip + [f"{wheel}{spec}"], check=True, timeout=1800, cwd=tmp_path)
        proc = subprocess.run([py, "-c", TRAIN_SCRIPT, layer], capture_output=True, text=True,
                              timeout=600, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    finally:
        shutil.rmtree(venv, ignore_errors=True)  # several GB with torch's CUDA libraries


def _check_trained(out):
    import dlbook

    assert out["version"] == dlbook.__version__
    assert float(out["accuracy"]) == 1.0, out
    assert out["predictions"] == "numpy (200, 2)", out
    assert out["font"] == "DlbookGothic"


@pytest.mark.slow
@pytest.mark.parametrize("extra, layer, other_extra", [
    ("mxnet", "mxnet", "torch"),
    ("torch", "torch", "mxnet"),
], ids=["py3.11-mxnet", "py3.11-torch"])
def test_python311_with_one_extra_trains_and_names_the_other(wheel, tmp_path, extra, layer,
                                                              other_extra):
    out = _fresh_venv_run(_python("3.11"), wheel, tmp_path, f"[{extra}]", layer)
    _check_trained(out)
    assert f'pip install "dlbook[{other_extra}]"' in out["other"], out["other"]


@pytest.mark.slow
def test_python311_with_both_extras_has_both_layers(wheel, tmp_path):
    out = _fresh_venv_run(_python("3.11"), wheel, tmp_path, "[mxnet,torch]", "mxnet")
    _check_trained(out)
    assert out["other"] == "importable"


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_plain_install_on_new_pythons_gives_the_pytorch_layer(wheel, tmp_path, version):
    # constraints.txt pins the book's build on 3.11 (numpy 1.23 has no 3.12 wheels): a user
    # on 3.12/3.13 installs the wheel alone, and pip picks what the ranges allow.
    out = _fresh_venv_run(_python(version), wheel, tmp_path, "", "torch", constraints=False)
    _check_trained(out)
    assert "runs only on Python 3.9-3.11" in out["other"], out["other"]
    assert "from dlbook import torch as dl" in out["other"], out["other"]

"""The wheel holds the package only, and installs and imports in a fresh environment."""
import subprocess
import sys
import zipfile

import pytest

from book_helpers import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(out), str(ROOT)], check=True, timeout=600, cwd=ROOT)
    wheels = list(out.glob("dlbook-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_holds_the_package_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    outside = [n for n in names if not (n.startswith("dlbook/") or ".dist-info/" in n)]
    assert not outside, outside
    modules = {n for n in names if n.startswith("dlbook/") and n.endswith(".py")}
    assert {"dlbook/__init__.py", "dlbook/train.py", "dlbook/datasets.py"} <= modules


@pytest.mark.slow
def test_wheel_installs_and_imports_in_a_fresh_venv(wheel, tmp_path):
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, cwd=tmp_path)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
                    str(wheel)], check=True, timeout=900, cwd=tmp_path)
    code = (
        "import dlbook, mxnet as mx\n"
        "net = dlbook.mlp(hidden=4, num_outputs=2); net.initialize()\n"
        "print(dlbook.__version__, net(mx.np.ones((1, 3))).shape, dlbook.use_korean_font())\n"
    )
    proc = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["0.1.0", "(1,", "2)", "DlbookGothic"], proc.stdout

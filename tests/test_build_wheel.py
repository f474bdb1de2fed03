"""scripts/build-wheel.sh builds what the editors' install advice points at: a wheel and a
source distribution that contain the server."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_build_wheel_script_makes_an_installable_wheel_and_sdist(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "DIST_DIR": str(tmp_path)}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-wheel.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    wheel = tmp_path / "nearcode-0.1.0-py3-none-any.whl"
    sdist = tmp_path / "nearcode-0.1.0.tar.gz"
    assert done.stdout.split() == [str(wheel), str(sdist)]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("nearcode-0.1.0.dist-info/entry_points.txt").decode()
    assert {"lsp_server/__main__.py", "lsp_server/server/main.py", "lsp_server/py.typed"} <= names
    assert "nearcode = lsp_server.cli:main" in entry_points
    with tarfile.open(sdist) as archive:
        assert "nearcode-0.1.0/lsp_server/engine/results.py" in archive.getnames()
    # Installed on its own (no dependencies), the package imports from the wheel.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, wheel],
        check=True,
        timeout=300,
    )
    imported = subprocess.run(
        [sys.executable, "-c", "import lsp_server; print(lsp_server.__file__)"],
        env={**os.environ, "PYTHONPATH": str(target)},
        cwd=tmp_path,  # not the checkout: its lsp_server must not be the one imported
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(imported.stdout.strip()).is_relative_to(target)


def test_build_wheel_script_says_which_setuptools_it_needs(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        f'exec {sys.executable} -c "import setuptools, sys; setuptools.__version__ = \'65.5.0\'; '
        f'sys.argv[0] = \'-\'; exec(sys.stdin.read())" "$@"\n'
    )
    fake.chmod(0o755)
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-wheel.sh")],
        env={**os.environ, "PYTHON": str(fake), "DIST_DIR": str(tmp_path / "dist")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "setuptools 65.5.0 is too old (77+ needed)" in done.stderr

"""A regular install of this checkout, as a user gets it, for the start-up benchmark.

``pip install .`` into a fresh virtual environment: no extras, not editable, so no
editable-install finder, no coverage hook and no test tooling in its ``site-packages``;
pip compiles every module to bytecode as it installs, as it does for users. The venv
is kept in ``.venv/bench-install`` and reused while the code is unchanged; a change of
our code reinstalls only our package, a change of ``pyproject.toml`` rebuilds the venv.
The sources are copied to a temporary directory first, so the build leaves nothing
(``build/``, ``*.egg-info``) in the checkout.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = ROOT / ".venv" / "bench-install"
PACKAGES = ("domain", "application", "adapters", "entrypoints")
_PROJECT_FILES = ("pyproject.toml", "README.md")
_CODE_STAMP = ".bench-code-stamp"
_DEPS_STAMP = ".bench-deps-stamp"


def regular_install(venv: Path = DEFAULT_VENV, root: Path = ROOT) -> Path:
    """The console script of an up-to-date regular install of ``root`` in ``venv``."""
    script = venv / "bin" / "buildwithtrace"
    code = _digest(root, _sources(root))
    deps = _digest(root, [root / "pyproject.toml"])
    if script.exists() and _stamp(venv, _CODE_STAMP) == code:
        return script
    fresh = not (venv / "bin" / "python").exists() or _stamp(venv, _DEPS_STAMP) != deps
    if fresh:
        shutil.rmtree(venv, ignore_errors=True)
        # From the base interpreter, as a user's `python -m venv` (pip, setuptools included).
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(venv)], "creating the venv")
    with tempfile.TemporaryDirectory(prefix="trace-bench-src-") as tmp:
        copy = Path(tmp) / "src"
        copy.mkdir()
        for name in _PROJECT_FILES:
            shutil.copy2(root / name, copy / name)
        for package in PACKAGES:
            shutil.copytree(
                root / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
            )
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        pip += ["--disable-pip-version-check"]
        if not fresh:  # same dependencies: replace our package only
            pip += ["--no-deps", "--force-reinstall"]
        _run([*pip, str(copy)], "pip install")
    (venv / _DEPS_STAMP).write_text(deps, encoding="utf-8")
    (venv / _CODE_STAMP).write_text(code, encoding="utf-8")
    return script


def pth_files(python: str) -> list[str]:
    """The ``.pth`` files in the ``site-packages`` of ``python`` (run at every start-up)."""
    done = subprocess.run(
        [python, "-c", "import site; print('\\n'.join(site.getsitepackages()))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: list[str] = []
    for line in done.stdout.splitlines():
        folder = Path(line)
        if folder.is_dir():
            found.extend(sorted(p.name for p in folder.glob("*.pth")))
    return found


def _sources(root: Path) -> list[Path]:
    files = [root / name for name in _PROJECT_FILES]
    for package in PACKAGES:
        files.extend(sorted((root / package).rglob("*.py")))
    return files


def _digest(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _stamp(venv: Path, name: str) -> str | None:
    try:
        return (venv / name).read_text(encoding="utf-8")
    except OSError:
        return None


def _run(command: list[str], what: str) -> None:
    print(f"bench_cli: {what} ({' '.join(command[:4])} ...)", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench_cli: {what} failed:\n{done.stdout}{done.stderr}")

"""A normal (non-editable) install works from any folder: the wheel holds every file the app
reads at run time, and the installed `webcare` serves styled pages without the source tree."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import time
import tomllib
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.app import free_port

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "connectors")
# Top-level repository folders that ship inside the package (package-dir in pyproject.toml).
SHIPPED = {"templates": "app/templates", "static": "app/static"}
# What `pip wheel` needs; the same set the Dockerfile copies into its build stage.
BUILD_INPUTS = ("pyproject.toml", "README.md", *PACKAGES, *SHIPPED)
# Named once more, so a wrong walk over the source tree cannot make the check below vacuous.
REQUIRED = (
    "app/templates/login.html", "app/templates/partials/queue.html", "app/static/app.css", "app/static/app.js",
    "app/locale/nl/LC_MESSAGES/messages.po", "app/craft/data/terms/common.toml", "app/craft/data/tone/nl.toml",
    "app/alerts/spikes/stopwords/nl.txt", "app/intake/data/demo.toml", "app/migrations/env.py",
    "app/migrations/script.py.mako", "app/migrations/versions/0001_initial_tables.py",
    "app/craft/data/classifier.bin.gz",
)
STYLESHEET_LINK = '<link rel="stylesheet" href="/static/app.css">'


def _skip(path: Path) -> bool:
    return "__pycache__" in path.parts or path.name.startswith(".")


def _source_files() -> list[Path]:
    return sorted(p for top in (*PACKAGES, *SHIPPED) for p in (ROOT / top).rglob("*")
                  if p.is_file() and not _skip(p))


def _installed_name(path: Path) -> str:
    """Where a repository file sits inside the installed package."""
    top, *rest = path.relative_to(ROOT).parts
    return "/".join((SHIPPED.get(top, top), *rest))


def test_pyproject_declares_every_package_folder():
    """setuptools only ships folders named in `packages` (and warns about the rest)."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert tool["package-dir"] == {name.replace("/", "."): top for top, name in SHIPPED.items()}
    folders = {folder for top in (*PACKAGES, *SHIPPED) for folder in [ROOT / top, *(ROOT / top).rglob("*")]
               if folder.is_dir() and not _skip(folder)}
    expected = {_installed_name(folder).replace("/", ".") for folder in folders}
    assert sorted(tool["packages"]) == sorted(expected)


# --- a real wheel, installed into a fresh virtualenv --------------------------------------------

def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=150, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy: an in-tree build writes build/ and *.egg-info into the checkout, and
    # a stale build/lib could hand the wheel files that are no longer in the source.
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", out, source)
    (built,) = out.glob("webcare_monitor-*.whl")
    return built


@pytest.mark.slow
def test_wheel_holds_every_file_the_app_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {_installed_name(p) for p in _source_files()}
    assert set(REQUIRED) <= expected
    assert sorted(expected - names) == []
    # nothing lands at the top of site-packages beside the two packages
    assert {name.split("/")[0] for name in names if ".dist-info/" not in name} == set(PACKAGES)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv holding the wheel; the dependencies come from the running
    interpreter's site-packages through a .pth file (lines of a .pth are plain paths: the
    editable-install hooks in that folder, themselves .pth files, are not run)."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # Installed before the .pth exists, so pip cannot see (and replace) the project's own copy.
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    deps = dict.fromkeys((sysconfig.get_path("purelib"), sysconfig.get_path("platlib")))
    (site / "webcare-test-deps.pth").write_text("\n".join(deps) + "\n")
    return env_dir


def _clean_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCARE_") and k != "PYTHONPATH"}
    return {**env, "WEBCARE_DATA_DIR": str(workdir)}


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
    return proc.communicate(timeout=20)[0]


@pytest.mark.slow
def test_installed_copy_serves_the_styled_login_page_from_any_folder(installed, tmp_path):
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = _clean_env(workdir)
    package, *folders = map(Path, json.loads(_run(
        installed / "bin" / "python", "-c", "import json, app, app.web.rendering as r; "
        "print(json.dumps([app.__file__, str(r.TEMPLATES_DIR), str(r.STATIC_DIR)]))", cwd=workdir, env=env).stdout))
    # the installed copy, not the checkout through an editable-install finder
    assert package.is_relative_to(installed), f"app imported from {package}"
    for folder in folders:
        assert folder.parent == package.parent and folder.is_dir(), folder

    _run(installed / "bin" / "webcare", "migrate", cwd=workdir, env=env)
    with sqlite3.connect(workdir / "webcare.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()

    port = free_port()
    server = subprocess.Popen([installed / "bin" / "webcare", "serve", "--port", str(port)], cwd=workdir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"webcare serve exited:\n{_stop(server)}"
            try:
                login = httpx.get(f"{base}/login", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "webcare serve did not answer in time"
                time.sleep(0.2)
        assert login.status_code == 200
        assert STYLESHEET_LINK in login.text
        css = httpx.get(f"{base}/static/app.css", timeout=5)
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert css.content and css.content == (ROOT / "static" / "app.css").read_bytes()
    finally:
        _stop(server)

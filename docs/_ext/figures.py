"""Sphinx extension: run ``docs/figures/*.py`` before the build, so figures are never stale.

Every script in ``docs/figures/`` whose name does not start with ``_`` runs in its own
subprocess when the builder starts (all of them concurrently, before any page is
read). Each writes its outputs (PNG figures, Markdown tables for ``{include}``) into
``docs/generated/``, which is not tracked and is excluded from the page sources. A
script that fails or runs past ``figures_timeout`` seconds is reported as a Sphinx
warning carrying the end of its stderr, so ``sphinx -W`` (``make docs``, CI) fails on a
broken figure. The convention for authors is in ``docs/figures/README.md``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def figure_scripts(srcdir: Path) -> list[Path]:
    """The figure scripts, sorted; helpers (``_*.py``) are skipped."""
    return sorted(p for p in (srcdir / "figures").glob("*.py") if not p.name.startswith("_"))


def run_figure_scripts(app: Sphinx) -> None:
    """Run every figure script concurrently; warn for each one that fails."""
    srcdir = Path(app.srcdir)
    out = srcdir / "generated"
    out.mkdir(exist_ok=True)
    scripts = figure_scripts(srcdir)
    if not scripts:
        return
    env = dict(os.environ, MPLBACKEND="Agg", VINET_DOCS_GENERATED=str(out))
    # The repository root first on the path, so the scripts import the checkout's
    # packages even without `pip install -e .`.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(srcdir.parent),
                                                      env.get("PYTHONPATH")]))
    timeout = app.config.figures_timeout
    t0 = time.perf_counter()
    procs = {
        script: subprocess.Popen([sys.executable, str(script)], cwd=srcdir, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for script in scripts
    }
    for script, proc in procs.items():
        name = script.relative_to(srcdir)
        try:
            _, stderr = proc.communicate(timeout=max(1.0, timeout - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            logger.warning(f"figure script {name} ran past figures_timeout={timeout} s "
                           "and was stopped; make it faster or raise the timeout in conf.py.")
            continue
        if proc.returncode != 0:
            tail = "\n".join(stderr.strip().splitlines()[-15:])
            logger.warning(f"figure script {name} failed (exit status {proc.returncode}):\n"
                           f"{tail}")
    logger.info(f"figures: ran {len(scripts)} script(s) in "
                f"{time.perf_counter() - t0:.1f} s into {out}")


def setup(app: Sphinx) -> dict:
    app.add_config_value("figures_timeout", 120.0, "env")
    app.connect("builder-inited", run_figure_scripts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""Run the console script's function, `rotator.cli.app:main`, in the test's own process.

What `rotator ...` runs after Python has started: the same argv parsing, error mapping and exit
codes, on an environment, working folder and argv of the test's choosing (restored after the
test by `monkeypatch`), with stdout and stderr captured at the file descriptors. Starting a
Python process and importing the CLI costs about half a second of CPU; tests with many cases
run most of them here and keep a subprocess for the cases that need one (a timeout on a
possible hang, concurrent processes, the process's own exit status).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from rotator.cli.app import main


def run_main(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    cwd: Path | None = None,
    cleared: tuple[str, ...] = ("ROTATOR_",),
) -> tuple[int, str]:
    """(exit code, stdout + stderr) of `rotator *args`; variables starting with `cleared` are
    unset first, then `env` is set."""
    for name in [n for n in os.environ if n.startswith(cleared)]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if cwd is not None:
        monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["rotator", *args])
    capfd.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    out, err = capfd.readouterr()
    return code, out + err

from __future__ import annotations

import io
import sys

import pytest

from causal.resampling.progress import progress_bar, progress_enabled


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_follows_the_terminal(monkeypatch):
    assert progress_enabled(None, stream=_Terminal()) is True
    assert progress_enabled(None, stream=io.StringIO()) is False
    closed = io.StringIO()
    closed.close()
    assert progress_enabled(None, stream=closed) is False
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert progress_enabled(None) is True
    assert progress_enabled(False) is False  # --quiet wins over a terminal


def test_forced_values_and_validation():
    assert progress_enabled(True, stream=io.StringIO()) is True
    with pytest.raises(ValueError, match="progress must be True, False or None"):
        progress_enabled("yes")


def test_bar_writes_to_stderr_when_enabled(monkeypatch):
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    with progress_bar(4, "bootstrap", progress=None, unit="replicate") as bar:
        bar.update(4)
    assert "bootstrap" in fake.getvalue() and "/4" in fake.getvalue()
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    with progress_bar(4, "bootstrap", progress=False) as bar:
        bar.update(4)
    assert quiet.getvalue() == ""

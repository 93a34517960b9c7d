"""`.ci/run` says what is missing before running anything."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_run_names_the_missing_postgresql_client(tmp_path):
    """Without pg_isready, the message is not "server down" but how to install the client."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dirname").symlink_to(shutil.which("dirname"))
    chromium = bin_dir / "chromium"  # present, so that nothing gets installed
    chromium.write_text("#!/bin/sh\nexit 0\n")
    chromium.chmod(0o755)
    result = subprocess.run(
        [shutil.which("bash"), str(ROOT / ".ci" / "run")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "client PostgreSQL n'est pas installé" in result.stderr
    assert "apt-get install postgresql-client" in result.stderr
    assert "injoignable" not in result.stderr

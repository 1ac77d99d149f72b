"""What a person reads: live bars on a terminal, plain lines in a log, nothing with -q; and odd file names
(line breaks, `#`, `%`) that break neither a line, an EDL nor the report's player."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time

from filmscore.batch.records import ItemRecord
from filmscore.cli.commands.batch import BatchLog


def _on_a_terminal(args: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run filmscore with its stderr on a pseudo-terminal; its exit code and what the terminal got."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "filmscore", *args], stdout=subprocess.DEVNULL, stderr=follower,
        env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    os.close(follower)
    seen = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return process.wait(timeout=30), seen.decode("utf-8", errors="replace")


def test_a_run_on_a_terminal_shows_live_bars_with_elapsed_time_and_an_eta(tmp_path, cuts_film):
    code, shown = _on_a_terminal(["analyze", str(cuts_film), "--report-dir", str(tmp_path / "r")])
    assert code == 0, shown
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    assert "analysing cuts.mp4" in plain and "pictures and shots" in plain and "━" in plain
    assert re.search(r"\d:\d\d:\d\d \d:\d\d:\d\d", plain)  # elapsed, then the time left
    assert re.search(r"report +━+ 100%", plain)  # the last stage's bar, left complete


def test_a_log_gets_plain_lines_and_q_gets_nothing(tmp_path, cuts_film):
    logged = subprocess.run(
        [sys.executable, "-m", "filmscore", "analyze", str(cuts_film), "--report-dir", str(tmp_path / "a")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert logged.returncode == 0 and "\x1b" not in logged.stderr and "━" not in logged.stderr
    assert "pictures and shots: done in" in logged.stderr
    quiet = subprocess.run(
        [sys.executable, "-m", "filmscore", "analyze", str(cuts_film), "-q", "--report-dir", f"{tmp_path}/b"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_odd_file_names_break_neither_the_edl_nor_the_player(tmp_path, cuts_film):
    for name, url in (
        ("take #2 at 100%.mp4", "take%20%232%20at%20100%25.mp4"),
        ("two\nlines.mp4", "two%0Alines"),
    ):
        film = tmp_path / name
        film.write_bytes(cuts_film.read_bytes())
        report = tmp_path / f"report-{len(url)}"
        done = subprocess.run(
            [sys.executable, "-m", "filmscore", "analyze", str(film), "--report-dir", str(report)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("\n") == 1  # the closing line, the name's break written as \\n
        assert f'src="../{url}' in (report / "report.html").read_text()
        edl = (report / "markers.edl").read_text().splitlines()
        assert all(line == "" or line.startswith(("TITLE:", "FCM:", "001 ", "* ")) for line in edl), edl


def test_a_batch_log_line_stays_one_line_whatever_the_film_is_called(capsys):
    log = BatchLog(total=1, quiet=False, live=False)
    record = ItemRecord("/in/a\nb.mp4", "in/a\nb", status="failed", error="cannot read\nit")
    log.record(record)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "in/a\\nb" in err and "cannot read\\nit" in err

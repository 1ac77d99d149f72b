"""Awkward inputs, output safety, interruption and offline use: each case exits with its documented code
and a one-line message, never modifies the input, and leaves no output or temp files behind."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.synthetic import Line, ShotSpec, make_film

pytestmark = pytest.mark.slow


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def _lavfi_film(target: Path, seconds: float, size: str = "320x240", rate: str = "25", *extra: str) -> Path:
    picture = f"testsrc2=size={size}:rate={rate}:duration={seconds}"
    tone = f"sine=frequency=330:duration={seconds}"
    _ffmpeg("-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", tone, *extra, "-shortest", str(target))
    return target


def _text_mp4(d: Path) -> Path:
    path = d / "notes.mp4"
    path.write_text("this is not a film\n" * 20)
    return path


def _empty(d: Path) -> Path:
    path = d / "empty.mp4"
    path.write_bytes(b"")
    return path


def _random_bytes(d: Path) -> Path:
    path = d / "noise.mov"
    path.write_bytes(os.urandom(200_000))
    return path


def _truncated(d: Path) -> Path:
    whole = _lavfi_film(d / "whole.mp4", 3.0)
    path = d / "truncated.mp4"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    whole.unlink()
    return path


def _audio_only(d: Path) -> Path:
    path = d / "song.m4a"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", str(path))
    return path


def _symlink_loop(d: Path) -> Path:
    path = d / "loop.mp4"
    path.symlink_to(d / "loop2.mp4")
    (d / "loop2.mp4").symlink_to(path)
    return path


FAILING: list[tuple[str, Callable[[Path], Path], int, str]] = [
    ("text file named .mp4", _text_mp4, 3, "not a readable video"),
    ("empty file", _empty, 3, "empty"),
    ("random bytes", _random_bytes, 3, "not a readable video"),
    ("truncated mp4", _truncated, 3, "readable video"),
    ("audio only", _audio_only, 3, "audio-only"),
    ("missing file", lambda d: d / "nowhere.mp4", 3, "no such file"),
    ("a folder", lambda d: d, 3, "is a folder"),
    ("symlink loop", _symlink_loop, 3, "symlink loop"),
]


def _filmscore(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "filmscore", *args], capture_output=True, text=True, **kwargs
    )


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize(("name", "make", "code", "words"), FAILING, ids=[case[0] for case in FAILING])
def test_bad_input_fails_with_its_code_and_leaves_nothing(tmp_path, name, make, code, words):
    films = tmp_path / "in"
    films.mkdir()
    film = make(films)
    before, present = _digest(film), _files(films)
    out = tmp_path / "out"
    result = _filmscore("run", str(film), "-o", str(out / "scored.mp4"))
    assert result.returncode == code, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _digest(film) == before and _files(films) == present
    assert not out.exists()


def _single_frame(d: Path) -> Path:
    path = d / "still.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "1", str(path))
    return path


def _rotated(d: Path) -> Path:
    plain = _lavfi_film(d / "plain.mp4", 2.0, "320x240")
    path = d / "phone clip.mov"
    _ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path))
    plain.unlink()
    return path


def _variable_rate(d: Path) -> Path:
    path = d / "vfr.mkv"
    # Frames dropped at random: the timestamps are uneven, as from a phone.
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3", "-f", "lavfi",
            "-i", "sine=frequency=330:duration=3", "-vf", "select='not(eq(mod(n\\,7)\\,3))'",
            "-fps_mode", "vfr", "-shortest", str(path))  # fmt: skip
    return path


def _vp8_in_mkv(d: Path) -> Path:
    return _lavfi_film(d / "web clip.mkv", 2.0, "320x240", "25", "-c:v", "libvpx", "-b:v", "300k")


SCORED: list[tuple[str, Callable[[Path], Path], str]] = [
    ("shorter than a second", lambda d: _lavfi_film(d / "blink.mp4", 0.6), ".mp4"),
    ("a single frame", _single_frame, ".mp4"),
    ("avi container", lambda d: _lavfi_film(d / "old.avi", 2.0, "320x240", "25", "-c:v", "mpeg4"), ".mp4"),
    (
        "odd size and non-ASCII path",
        lambda d: _lavfi_film(d / "prise de vue é 1.mp4", 1.5, "322x182"),
        ".mp4",
    ),
    ("variable frame rate", _variable_rate, ".mp4"),
    ("vp8 that mp4 cannot hold", _vp8_in_mkv, ".mkv"),
    (
        "1x1 pixel",
        lambda d: _lavfi_film(d / "dot.mkv", 1.0, "2x2", "25", "-vf", "scale=1:1", "-c:v", "ffv1"),
        ".mkv",
    ),
    ("4K", lambda d: _lavfi_film(d / "uhd.mp4", 1.0, "3840x2160", "25", "-preset", "ultrafast"), ".mp4"),
]


@pytest.mark.parametrize(("name", "make", "suffix"), SCORED, ids=[case[0] for case in SCORED])
def test_awkward_but_valid_films_are_scored_with_their_picture_untouched(tmp_path, name, make, suffix):
    from tests.measure import stream_md5

    film = make(tmp_path)
    before = _digest(film)
    result = _filmscore("run", str(film))
    assert result.returncode == 0, result.stderr
    out = film.with_name(f"{film.stem}.scored{suffix}")
    assert out.is_file(), sorted(p.name for p in tmp_path.iterdir())
    assert stream_md5(out, "0:v:0") == stream_md5(film, "0:v:0")
    assert _digest(film) == before
    assert not list(tmp_path.rglob("*.part"))


def test_rotation_metadata_is_kept_in_the_scored_film(tmp_path):
    from filmscore.media.probe import probe

    film = _rotated(tmp_path)
    assert probe(film).rotation in (90, 270)
    assert _filmscore("run", str(film), "-q").returncode == 0
    assert probe(film.with_name("phone clip.scored.mp4")).rotation == probe(film).rotation


def test_an_existing_output_is_only_replaced_with_overwrite(tmp_path, cuts_film):
    film = tmp_path / "take.mp4"
    shutil.copy(cuts_film, film)
    assert _filmscore("run", str(film), "-q").returncode == 0
    scored = tmp_path / "take.scored.mp4"
    first = _digest(scored)
    again = _filmscore("run", str(film), "-q")
    assert again.returncode == 5 and "--overwrite" in again.stderr
    assert _digest(scored) == first
    assert _filmscore("run", str(film), "-q", "--overwrite", "--seed", "9").returncode == 0
    assert _digest(scored) != first
    assert not list(tmp_path.rglob("*.part"))


def test_max_duration_refuses_a_long_film(tmp_path, cuts_film):
    result = _filmscore("run", str(cuts_film), "--max-duration", "5", "-o", str(tmp_path / "s.mp4"))
    assert result.returncode == 3 and "--max-duration 5" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _children(pid: int) -> set[int]:
    """Every live descendant of a process, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _read_until(process: subprocess.Popen[str], prefix: str) -> bool:
    """Read a process's stderr up to the first line that starts with `prefix`; False if it ends first."""
    assert process.stderr is not None
    return any(line.startswith(prefix) for line in iter(process.stderr.readline, ""))


@pytest.fixture(scope="module")
def long_talk(media_dir: Path) -> Path:
    lines = [
        ShotSpec("warm", 8.0, Line("I waited for you all day, and you never came.", "sad")),
        ShotSpec("night", 8.0, Line("Run now, they are coming for us, hurry!", "frightened")),
    ]
    return make_film(media_dir / "long_talk.mp4", lines, fps=25.0)


@pytest.mark.parametrize(("how", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_an_interrupted_run_stops_its_children_and_leaves_nothing(tmp_path, long_talk, how, code):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "filmscore", "run", str(long_talk), "-o", str(out / "scored.mp4")]
    process = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, start_new_session=True)
    # Stop it in the picture pass, which the probe's progress line opens: a count of its children came
    # too early or, once on CI, too late (the run had finished and exited 0 before the signal came).
    assert _read_until(process, "probe:"), "the run never reached its picture pass"
    children = _children(process.pid)
    assert len(children) >= 2, "the run has no helpers in its picture pass"
    if how == "SIGTERM":
        process.send_signal(signal.SIGTERM)
    else:  # Ctrl-C reaches the whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=20)
    assert time.monotonic() - started < 10
    assert process.returncode == code, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    time.sleep(0.5)
    assert not [pid for pid in children if _alive(pid)]
    assert not out.exists()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_a_run_works_with_no_network_at_all(tmp_path, cuts_film):
    if subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow a network namespace")
    cmd = ["unshare", "-rn", sys.executable, "-m", "filmscore", "run", str(cuts_film), "-q",
           "-o", str(tmp_path / "offline.mp4")]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "offline.mp4").is_file()


def test_no_code_path_of_a_run_opens_a_socket(tmp_path, cuts_film):
    # A guard in the process itself: any socket other than a local pipe pair fails the run loudly.
    code = (
        "import socket, sys\n"
        "class Guard(socket.socket):\n"
        "    def __init__(self, family=-1, *a, **k):\n"
        "        if family in (socket.AF_INET, socket.AF_INET6):\n"
        "            raise RuntimeError('filmscore opened a network socket')\n"
        "        super().__init__(family, *a, **k)\n"
        "socket.socket = Guard\n"
        "from filmscore.cli.main import main\n"
        f"sys.exit(main(['run', {str(cuts_film)!r}, '-q', '-o', {str(tmp_path / 'guarded.mp4')!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "network socket" not in result.stderr


def test_a_full_disk_gives_exit_5_and_leaves_nothing(tmp_path, cuts_film):
    disk = tmp_path / "small disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True
    )
    try:
        if mounted.returncode == 0:  # a real 1 MB file system: the scored film cannot fit
            started = time.monotonic()
            refused = _filmscore("run", str(cuts_film), "-q", "-o", str(disk / "scored.mp4"))
            assert refused.returncode == 5 and "MB free beside the output" in refused.stderr
            assert time.monotonic() - started < 5  # refused before any analysis
            # Past that check, the disk fills for real in the middle of the run.
            code = (
                "import sys\n"
                "import filmscore.cli.commands.run\n"
                "import filmscore.cli.main\n"
                "filmscore.cli.commands.run.check_free_space = lambda folder, needed: None\n"
                f"args = ['run', {str(cuts_film)!r}, '-q', '-o', {str(disk / 'scored.mp4')!r}]\n"
                "sys.exit(filmscore.cli.main.main(args))\n"
            )
            result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        else:  # no mounting here: make every write fail with ENOSPC instead
            code = (
                "import errno, os, sys, pathlib\n"
                "def full(*a, **k): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
                "pathlib.Path.write_bytes = full\n"
                "from filmscore.cli.main import main\n"
                f"sys.exit(main(['run', {str(cuts_film)!r}, '-q', '-o', {str(disk / 'scored.mp4')!r}]))\n"
            )
            result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 5, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert list(disk.iterdir()) == []
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(disk)], check=True)


def test_an_unwritable_output_folder_gives_exit_5(tmp_path, cuts_film):
    # /proc refuses new files even to root, so this holds wherever the tests run.
    started = time.monotonic()
    result = _filmscore("run", str(cuts_film), "-q", "-o", "/proc/filmscore/scored.mp4")
    assert time.monotonic() - started < 5  # refused before any analysis
    assert result.returncode == 5, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_container_change_is_said(tmp_path):
    film = _vp8_in_mkv(tmp_path)
    result = _filmscore("run", str(film))
    assert result.returncode == 0 and "MP4 cannot hold vp8" in result.stderr


def test_keeping_pcm_audio_in_mp4_is_refused_before_any_work(tmp_path):
    film = _lavfi_film(tmp_path / "studio.mov", 1.0, "320x240", "25", "-c:a", "pcm_s16le")
    started = time.monotonic()
    refused = _filmscore("run", str(film), "-q", "--keep-original-audio")
    assert refused.returncode == 2 and "cannot hold the original pcm_s16le" in refused.stderr
    assert time.monotonic() - started < 5
    kept = _filmscore("run", str(film), "-q", "--keep-original-audio", "-o", str(tmp_path / "kept.mov"))
    assert kept.returncode == 0, kept.stderr


def _group(pgid: int) -> set[int]:
    """The live processes of a process group, from /proc."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.add(int(entry.name))
    return members


# Stages to stop a run in, by the progress line that ends the one before: the picture pass (speech workers
# and the helper busy), the cue plan (workers idle, waiting for tasks: where Pool.terminate hung), the
# composer and the mix.
STOP_POINTS = ("probe:", "soundtrack:", "cues:", "compose:", "mix:")


@pytest.mark.parametrize("after", STOP_POINTS)
def test_sigterm_to_the_whole_process_group_ends_the_run_within_seconds(tmp_path, long_talk, after):
    """What `timeout`, systemd and `kill -- -PGID` do: every process of the run gets SIGTERM at once."""
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "filmscore", "run", str(long_talk), "-o", str(out / "scored.mp4")]
    process = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if not _read_until(process, after):
        pytest.fail(f"the run ended before {after}")
    os.killpg(process.pid, signal.SIGTERM)
    started = time.monotonic()
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"a process-group SIGTERM after {after} hung the run")
    assert time.monotonic() - started < 10
    assert process.returncode in (143, 0), stderr  # 0 only if it had published already
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 5
    while _group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group(process.pid), "processes of the run outlived it"
    if process.returncode == 143:
        assert not list(out.iterdir())


def test_the_next_run_removes_what_a_killed_run_left(tmp_path, long_talk):
    """SIGKILL gives a run no chance to clean up: its helpers end with it, and the next run in the same
    folder removes its work folder and staged files (but not another live run's)."""
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "filmscore", "run", str(long_talk), "-o", str(out / "scored.mp4"), "-q"]
    process = subprocess.Popen([*cmd[:-1]], stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert _read_until(process, "soundtrack:")
    process.kill()
    process.wait()
    deadline = time.monotonic() + 5
    while _group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group(process.pid), "the helpers outlived a killed run"
    left = [p.name for p in out.iterdir()]
    assert any(name.startswith(".filmscore-work-") for name in left)
    live = out / f".other.mp4.{_owner_tag()}-x1.part"  # this test's own process: alive
    live.write_bytes(b"live")
    assert "Traceback" not in process.stderr.read()  # type: ignore[union-attr]
    done = subprocess.run([*cmd, "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(["scored.mp4", "scored.filmscore", live.name])


def _owner_tag() -> str:
    from filmscore.core.atomic import owner_tag

    return owner_tag()


def test_a_second_run_on_the_same_output_and_a_file_that_appears_meanwhile(tmp_path, long_talk):
    """Two runs on one output: the second is refused at once. A file put at the output path while the
    first works is kept, and the first fails rather than replace it."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "filmscore", "run", str(long_talk), "-o", str(out / "scored.mp4")]
    first = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    assert _read_until(first, "pictures and shots:")
    second = subprocess.run([*cmd, "-q", "--overwrite"], capture_output=True, text=True, timeout=60)
    assert second.returncode == 5 and "another filmscore run is writing" in second.stderr
    (out / "scored.mp4").write_bytes(b"the editor's own file")
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 5 and "appeared while filmscore worked" in stderr
    assert (out / "scored.mp4").read_bytes() == b"the editor's own file"
    assert sorted(p.name for p in out.iterdir()) == ["scored.mp4"]

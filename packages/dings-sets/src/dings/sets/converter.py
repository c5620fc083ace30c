"""What every conversion shares: the command line built from a catalog entry, preparing the sources,
and :class:`Outputs`, which writes each split atomically, asking before it overwrites.

Datasets are :class:`~dings.sets.builder.Builder` subclasses (see :mod:`dings.sets.builder`).
:func:`run_converter` keeps the earlier interface, a module with ``convert(args, files, outputs)``
and ``main(argv)``, working for plugins written against it.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dings.format import FileWriter
from dings.tools import NonInteractiveError, argument_indir, make_parser, prepare_indir, query_user

from .catalog import DatasetInfo

__all__ = [
    "ConversionError",
    "Outputs",
    "converter_parser",
    "missing_requirements",
    "prepare_conversion",
    "run_converter",
    "shuffled",
]

#: distributions whose import name differs from their name
_IMPORT_NAMES = {"pillow": "PIL", "opencv-python-headless": "cv2", "opencv-python": "cv2"}

Convert = Callable[[argparse.Namespace, dict[str, Path], "Outputs"], None]


class ConversionError(RuntimeError):
    """A conversion cannot go on (bad input, or an existing output that may not be replaced)."""


def _cli_installed() -> bool:
    """Whether the ``dings`` command (dings-cli) is installed, so that help text may name it."""
    import importlib.util

    try:
        return importlib.util.find_spec("dings.cli") is not None
    except (ImportError, ValueError):  # ValueError: a module without a spec (blocked in sys.modules)
        return False


def converter_parser(info: DatasetInfo, prog: str | None = None) -> argparse.ArgumentParser:
    """Return the converter's argument parser: datadings' common options plus ``info.options``.

    The help ends with the sample keys and every deliberate difference from datadings' converter.

    Args:
        info: the dataset's catalog entry.
        prog: the command shown in the usage line (default ``dings write NAME``).
    """
    lines = [
        f"Convert {info.name} ({info.domain}) to dings datasets: " + ", ".join(s.filename for s in info.splits) + ".",
        "",
        info.description,
    ]
    epilog = ["sample keys:"] + [f"  {k}: {v}" for k, v in info.sample_keys.items()]
    manual = [s for s in info.sources if s.manual]
    if manual:
        epilog += ["", "files to download by hand into INDIR:"] + [
            f"  {s.name}: {s.instructions or info.homepage}" for s in manual
        ]
    if info.differences:
        epilog += ["", "differences from datadings 3.4:"] + [f"  - {d}" for d in info.differences]
    parser = make_parser(
        "\n".join(lines),
        indir=False,
        shuffle="shuffle" in info.common_options,
        threads="threads" in info.common_options,
        epilog="\n".join(epilog),
        prog=prog or f"dings write {info.name}",
    )
    # by default the folder `dings prepare NAME` downloads into, so that prepare and write share it
    if _cli_installed():
        where = f"$DINGS_DATA/{info.name}, where `dings prepare {info.name}` downloads them; see `dings prepare -h`"
    else:
        where = f"$DINGS_DATA/{info.name}, where dings.sets.prepare({info.name!r}) downloads them"
    argument_indir(parser, default=None, help=f"Directory that contains the dataset's source files. (default: {where})")
    if "shuffle" in info.common_options:
        parser.add_argument("--seed", type=int, default=0, help="Seed of the shuffled order (default: %(default)s).")
    parser.add_argument("-q", "--quiet", action="store_true", help="Do not show progress.")
    if "threads" in info.common_options:
        parser.add_argument(
            "--engine",
            choices=("local", "ray"),
            default="local",
            help="Where the per-image work runs: -t/--threads processes here (local), or the tasks of a Ray "
            "cluster (ray; needs dings-tools[ray]); sources are read and the output written here in order, "
            "so both write the same bytes (default: %(default)s).",
        )
        parser.add_argument(
            "--address",
            default=None,
            help="The Ray cluster for --engine ray (default: a running one, else a local one).",
        )
    for option in info.options:
        parser.add_argument(*option.flags, help=option.help, **option.kwargs)
    return parser


def missing_requirements(info: DatasetInfo) -> list[str]:
    """The packages of ``info.extra`` (from dings-sets' own metadata) that cannot be imported.

    Checked before anything is downloaded or written, without importing the packages. Empty when
    the dataset needs no extra or dings-sets is not installed as a distribution.
    """
    import importlib.util
    import re
    from importlib.metadata import PackageNotFoundError, requires

    if not info.extra:
        return []
    try:
        requirements = requires("dings-sets") or []
    except PackageNotFoundError:
        return []
    missing = []
    for requirement in requirements:
        if not re.search(rf"""extra\s*==\s*["']{re.escape(info.extra)}["']""", requirement):
            continue
        name = re.split(r"[ <>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower()
        if name.startswith("dings-"):
            continue
        module = _IMPORT_NAMES.get(name, name.replace("-", "_"))
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found and name not in missing:
            missing.append(name)
    return missing


def shuffled(items: Sequence[Any], seed: int) -> list[Any]:
    """Return ``items`` in a random order that depends only on ``seed``."""
    order = list(items)
    random.Random(seed).shuffle(order)
    return order


class Outputs:
    """Writes a converter's splits into ``outdir``, one atomic dataset each.

    Args:
        outdir: output folder (created when needed).
        info: the dataset, for split file names.
        no_confirm: replace existing outputs without asking.
        progress: show a progress bar per split.
    """

    def __init__(self, outdir: Path, info: DatasetInfo, no_confirm: bool = False, progress: bool | None = True) -> None:
        self.outdir = Path(outdir)
        self.info = info
        self.no_confirm = no_confirm
        self.progress = progress
        self.written: list[Path] = []
        self.skipped: list[Path] = []
        self._decisions: dict[Path, bool] = {}

    def path(self, split: str) -> Path:
        """The output file of ``split``."""
        for s in self.info.splits:
            if s.name == split:
                return self.outdir / s.filename
        raise KeyError(f"{self.info.name} has no split {split!r}; it has {', '.join(s.name for s in self.info.splits)}")

    def wanted(self, split: str) -> bool:
        """Decide whether ``split`` gets written: true unless its output exists and the user says no.

        Raises:
            ConversionError: the output exists, ``no_confirm`` is off and there is no terminal to ask.
            KeyboardInterrupt: the user answered abort.
        """
        path = self.path(split)
        if path in self._decisions:
            return self._decisions[path]
        self._decisions[path] = self._ask(path)
        if not self._decisions[path]:
            self.skipped.append(path)
        return self._decisions[path]

    def _ask(self, path: Path) -> bool:
        if self.no_confirm or not path.exists():
            return True
        try:
            answer = query_user(f"{path} exists. Overwrite?", default=None, answers=("yes", "no", "abort"))
        except NonInteractiveError:
            raise ConversionError(f"{path}: output exists; pass -y/--no-confirm to replace it") from None
        if answer == "abort":
            raise KeyboardInterrupt
        return answer == "yes"

    def write(self, split: str, samples: Iterable[dict[str, Any]], total: int | None = None) -> Path | None:
        """Write ``samples`` as ``split``; returns the path, or ``None`` when the split was skipped.

        Check :meth:`wanted` first when producing the samples is expensive (the answer is kept,
        so the user is asked once). Nothing complete-looking is left behind when ``samples`` raises.
        """
        path = self.path(split)
        if not self.wanted(split):
            return None
        with FileWriter(path, overwrite=True, total=total, progress=self.progress, desc=path.name) as writer:
            for sample in samples:
                writer.write(sample)
        self.written.append(path)
        return path

    @contextmanager
    def writer(self, split: str, total: int | None = None) -> Iterator[FileWriter | None]:
        """Open ``split`` for writing sample by sample, for converters that fill several splits at once.

        Yields the :class:`~dings.format.FileWriter`, or ``None`` when the split is skipped (see
        :meth:`wanted`). The dataset appears only when the ``with`` block ends without error.

        Args:
            split: the split to write.
            total: expected number of samples, for the progress bar.
        """
        path = self.path(split)
        if not self.wanted(split):
            yield None
            return
        with FileWriter(path, overwrite=True, total=total, progress=self.progress, desc=path.name) as writer:
            yield writer
        self.written.append(path)


def run_converter(
    info: DatasetInfo,
    convert: Convert,
    argv: Sequence[str] | None = None,
    sources: Callable[[argparse.Namespace], list[str]] | None = None,
) -> Outputs:
    """Parse ``argv``, prepare the input folder and run ``convert(args, files, outputs)``.

    Args:
        info: the dataset's catalog entry.
        convert: the dataset-specific part.
        argv: command-line arguments (default ``sys.argv[1:]``).
        sources: names of the source files needed for these arguments (default: all).

    Returns:
        The :class:`Outputs` with what was written and skipped.
    """
    args = converter_parser(info).parse_args(sys.argv[1:] if argv is None else list(argv))
    names = sources(args) if sources is not None else [s.name for s in info.sources]
    files, outputs = prepare_conversion(info, args, names, progress=False if args.quiet else None)
    convert(args, files, outputs)
    return outputs


def prepare_conversion(
    info: DatasetInfo, options: argparse.Namespace, names: Sequence[str], progress: bool | None
) -> tuple[dict[str, Path], Outputs]:
    """Everything before a conversion: check the extra, then download and verify the source files.

    Args:
        info: the dataset's catalog entry.
        options: the parsed options (``indir``, ``outdir``, ``skip_verification``, ``no_confirm``).
        names: the source files to prepare.
        progress: show download and hashing progress (``None``: only on a terminal).

    Returns:
        Source file name → path, and the :class:`Outputs` to write to.

    Raises:
        ConversionError: the dataset's extra is not installed (nothing is downloaded or created).
    """
    from .locations import data_dir

    missing = missing_requirements(info)
    if missing:  # before downloading or creating anything
        raise ConversionError(
            f"{info.name}: the converter needs {', '.join(missing)}, not installed: "
            f'pip install "dings-sets[{info.extra}]" (or "dings-cli[converters]" for every converter)'
        )
    indir = Path(options.indir) if options.indir is not None else data_dir() / info.name
    outdir = Path(options.outdir) if options.outdir else indir
    specs = {}
    for name in names:
        source = info.source(name)
        specs[name] = {
            "path": name,
            "url": source.url,
            "md5": source.md5,
            "instructions": source.instructions,
        }
    located = prepare_indir(specs, indir, skip_verification=options.skip_verification, progress=progress)
    files = {name: Path(spec["path"]) for name, spec in located.items()}
    return files, Outputs(outdir, info, no_confirm=options.no_confirm, progress=progress)

"""The facts about one dataset, as data: sources, splits, sample keys, options, tags.

Every dataset module (``dings.sets.<domain>.<name>``) defines ``INFO = DatasetInfo(...)`` and its
:class:`~dings.sets.builder.Builder` declares ``info = INFO``; the registry, the ``dings sets``
command, ``prepare`` and the converters' command lines all read the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DOMAINS", "DatasetInfo", "Option", "SourceFile", "Split"]

#: the domains datasets belong to
DOMAINS = ("classification", "saliency", "segmentation", "remote-sensing")


@dataclass(frozen=True)
class SourceFile:
    """A file a converter reads, relative to its input directory.

    Args:
        name: file (or folder) name inside the input directory.
        url: where to download it; ``None`` when it must be obtained by hand.
        md5: expected md5 hex digest, or ``None`` when unknown (then it is not verified).
        size: size in bytes, if known.
        instructions: how to obtain the file when it cannot be downloaded automatically.
    """

    name: str
    url: str | None = None
    md5: str | None = None
    size: int | None = None
    instructions: str | None = None

    @property
    def manual(self) -> bool:
        """True when the file cannot be downloaded automatically."""
        return self.url is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "name": self.name,
            "url": self.url,
            "md5": self.md5,
            "size": self.size,
            "manual": self.manual,
            "instructions": self.instructions,
        }


@dataclass(frozen=True)
class Split:
    """One output dataset of a converter.

    Args:
        name: split name; the output file is ``<outdir>/<file>`` (``<name>.msgpack`` by default).
        samples: number of samples in the real dataset, if known.
        file: output file name, when it is not ``<name>.msgpack``.
    """

    name: str
    samples: int | None = None
    file: str | None = None

    @property
    def filename(self) -> str:
        """The output file name."""
        return self.file or f"{self.name}.msgpack"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"name": self.name, "samples": self.samples, "file": self.filename}


@dataclass(frozen=True)
class Option:
    """A converter option beyond the common ones: argparse flags and keyword arguments.

    Args:
        flags: e.g. ``("--compress",)``.
        help: one line for ``--help`` and the catalog.
        kwargs: further ``ArgumentParser.add_argument`` keywords (``type``, ``default``, ``choices``…).
    """

    flags: tuple[str, ...]
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (types are shown by name)."""
        kwargs = {k: (getattr(v, "__name__", repr(v)) if callable(v) else v) for k, v in self.kwargs.items()}
        try:  # argparse-style placeholders such as %(default)s, filled in as --help shows them
            text = self.help % {"default": None, "choices": None, **self.kwargs}
        except (KeyError, ValueError, TypeError):
            text = self.help
        return {"flags": list(self.flags), "help": text, **kwargs}


@dataclass(frozen=True)
class DatasetInfo:
    """Everything the catalog knows about a dataset.

    Args:
        name: canonical name, e.g. ``"CIFAR10"``.
        domain: one of :data:`DOMAINS`.
        description: one paragraph.
        homepage: URL of the dataset's home page.
        tasks: e.g. ``("image-classification",)``.
        tags: free-form search tags.
        aliases: other names that find the dataset.
        sources: the files the converter reads.
        splits: the datasets the converter writes.
        sample_keys: key → type description of every key of a sample.
        options: converter options beyond the common ones.
        common_options: which common converter options apply (``"shuffle"``, ``"threads"``…).
        differences: deliberate differences from the datadings 3.4 converter.
        extra: the ``dings-sets`` extra its converter needs (``pip install "dings-sets[extra]"``).
        converter: where the converter is: a module with ``main(argv)`` (the built-ins keep
            datadings' ``dings.sets.FOO_write``) or ``module:Builder``; ``None`` for a catalog-only
            entry (the registry fills it in for a :class:`~dings.sets.builder.Builder` it loads).
    """

    name: str
    domain: str
    description: str
    homepage: str
    tasks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    sources: tuple[SourceFile, ...] = ()
    splits: tuple[Split, ...] = ()
    sample_keys: dict[str, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    common_options: tuple[str, ...] = ("shuffle",)
    differences: tuple[str, ...] = ()
    extra: str | None = None
    converter: str | None = None

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"dataset {self.name}: domain {self.domain!r} is not one of {', '.join(DOMAINS)}")

    @property
    def names(self) -> tuple[str, ...]:
        """The name and every alias."""
        return (self.name, *self.aliases)

    def source(self, name: str) -> SourceFile:
        """Return the source file called ``name``.

        Raises:
            KeyError: the dataset has no such source file.
        """
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(f"{self.name} has no source file {name!r}; it has {', '.join(s.name for s in self.sources)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form of every fact."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "domain": self.domain,
            "tasks": list(self.tasks),
            "tags": list(self.tags),
            "description": self.description,
            "homepage": self.homepage,
            "sources": [s.to_dict() for s in self.sources],
            "splits": [s.to_dict() for s in self.splits],
            "sample_keys": dict(self.sample_keys),
            "options": [o.to_dict() for o in self.options],
            "common_options": list(self.common_options),
            "differences": list(self.differences),
            "extra": self.extra,
            "converter": self.converter,
        }

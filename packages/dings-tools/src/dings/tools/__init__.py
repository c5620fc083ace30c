"""dings.tools: whole-dataset operations and the converters' toolbox.

The image helpers (extra ``image``, Pillow), MATLAB helpers (extra ``matlab``, scipy) and
``tiff_to_nd_array`` (extra ``tiff``, tifffile) are exported here too, but their modules import
Pillow/scipy/tifffile only inside the functions: ``import dings.tools`` works without any of them,
and calling such a helper without its extra raises an ImportError that says
``pip install "dings-tools[image]"`` (or ``[matlab]``, ``[tiff]``).
"""

from dings.format import NonInteractiveError, VerificationReport, query_user

from .__about__ import __version__
from ._dataset import input_paths, input_shards
from .arguments import (
    MinMaxAction,
    YesNoAction,
    argument_calculate_weights,
    argument_indir,
    argument_infile,
    argument_no_confirm,
    argument_outdir,
    argument_outfile,
    argument_outfile_positional,
    argument_outfiles,
    argument_shuffle,
    argument_skip_verification,
    argument_threads,
    make_parser,
    make_parser_simple,
)
from .arrays import iter_tiles, split_array
from .background import WorkerError, WorkerTraceback, yield_process, yield_threaded
from .bench import BenchResult, bench
from .convert_index import convert_index
from .document import document_keys
from .download import DownloadError, download
from .exporting import ExportError, export, export_folder, export_parquet, export_webdataset
from .extras import MissingExtraError, require
from .files import load_json, open_comp, path_append, path_append_suffix
from .hashing import hash_string, hash_string_bytes
from .image import (
    decode_image,
    decode_label_map,
    encode_image,
    encode_label_map,
    image_decode_problem,
    recompress_jpeg,
    write_label_map,
)
from .importing import (
    ImportDataError,
    ImportResult,
    Partitions,
    Source,
    SourceKind,
    SourceOption,
    detect_source,
    get_source_kind,
    import_dings,
    import_folder,
    import_huggingface,
    import_list,
    import_partitioned,
    import_samples,
    import_source,
    import_table,
    import_webdataset,
    register_source_kind,
    source_kinds,
    unregister_source_kind,
)
from .info import DatasetSummary, KeySummary, info
from .matlab import iter_fields, loadmat
from .merge import merge
from .parallel import available_cpus, parallel_map, resolve_workers
from .partition_targets import (
    PartitionedResult,
    RemotePartitionedOutput,
    open_partitioned,
    rank_from_env,
    write_one_partition,
)
from .partitioned import ENGINES, write_partitioned
from .preview import (
    contact_sheet,
    default_index_to_color,
    overlay_fixations,
    overlay_labels,
    preview,
    sample_picture,
    sheet_size,
    to_display_image,
)
from .progress import BAR_FORMAT, ProgressPrinter, make_printer, print_over, progress_bar
from .ray import ray_map
from .render import ImageInfo, cat, render_sample, render_value, sniff_image
from .shuffle import shuffle
from .sources import (
    ChecksumMismatchError,
    Md5FileError,
    MissingSourceFileError,
    SourceFileError,
    download_files_if_not_found,
    download_if_not_found,
    hash_md5hex,
    load_md5file,
    locate_files,
    prepare_indir,
    verify_file,
    verify_files,
)
from .split import default_split_names, sample, split, split_position
from .stage import StageResult, stage
from .tiff import tiff_to_nd_array
from .verify import verify, verify_dataset
from .yielders import SentinelEnd, SentinelError, Yielder, YielderProc

__all__ = [
    "BAR_FORMAT",
    "BenchResult",
    "ChecksumMismatchError",
    "DatasetSummary",
    "DownloadError",
    "ExportError",
    "ImageInfo",
    "ImportDataError",
    "ImportResult",
    "KeySummary",
    "Md5FileError",
    "MissingExtraError",
    "MinMaxAction",
    "MissingSourceFileError",
    "NonInteractiveError",
    "ProgressPrinter",
    "SentinelEnd",
    "SentinelError",
    "SourceFileError",
    "StageResult",
    "VerificationReport",
    "WorkerError",
    "WorkerTraceback",
    "YesNoAction",
    "Yielder",
    "YielderProc",
    "__version__",
    "argument_calculate_weights",
    "argument_indir",
    "argument_infile",
    "argument_no_confirm",
    "argument_outdir",
    "argument_outfile",
    "argument_outfile_positional",
    "argument_outfiles",
    "argument_shuffle",
    "argument_skip_verification",
    "argument_threads",
    "available_cpus",
    "bench",
    "cat",
    "contact_sheet",
    "convert_index",
    "decode_image",
    "decode_label_map",
    "default_index_to_color",
    "default_split_names",
    "document_keys",
    "detect_source",
    "download",
    "download_files_if_not_found",
    "download_if_not_found",
    "encode_image",
    "encode_label_map",
    "export",
    "export_folder",
    "export_parquet",
    "export_webdataset",
    "hash_md5hex",
    "image_decode_problem",
    "hash_string",
    "hash_string_bytes",
    "import_dings",
    "import_folder",
    "import_huggingface",
    "import_list",
    "import_partitioned",
    "Partitions",
    "Source",
    "SourceKind",
    "SourceOption",
    "get_source_kind",
    "register_source_kind",
    "source_kinds",
    "unregister_source_kind",
    "import_samples",
    "import_source",
    "import_table",
    "import_webdataset",
    "info",
    "input_paths",
    "input_shards",
    "iter_fields",
    "iter_tiles",
    "load_json",
    "load_md5file",
    "loadmat",
    "locate_files",
    "make_parser",
    "make_parser_simple",
    "make_printer",
    "merge",
    "ENGINES",
    "PartitionedResult",
    "RemotePartitionedOutput",
    "open_partitioned",
    "rank_from_env",
    "write_one_partition",
    "write_partitioned",
    "open_comp",
    "overlay_fixations",
    "overlay_labels",
    "parallel_map",
    "ray_map",
    "path_append",
    "path_append_suffix",
    "prepare_indir",
    "preview",
    "print_over",
    "progress_bar",
    "query_user",
    "recompress_jpeg",
    "render_sample",
    "render_value",
    "require",
    "resolve_workers",
    "sample",
    "sample_picture",
    "sheet_size",
    "shuffle",
    "sniff_image",
    "split",
    "split_array",
    "split_position",
    "stage",
    "tiff_to_nd_array",
    "to_display_image",
    "verify",
    "verify_dataset",
    "verify_file",
    "verify_files",
    "write_label_map",
    "yield_process",
    "yield_threaded",
]


def __getattr__(name: str) -> object:
    # 0.1 names kept for a while; they warn and are not in __all__
    if name == "DatasetInfo":
        import warnings

        warnings.warn(
            "dings.tools.DatasetInfo is now dings.tools.DatasetSummary (dings.sets.DatasetInfo is the catalog entry)",
            DeprecationWarning,
            stacklevel=2,
        )
        return DatasetSummary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""dings.tools: whole-dataset operations and the converters' toolbox.

The image helpers (extra ``image``, Pillow) and MATLAB helpers (extra ``matlab``, scipy) are exported
here too, but their modules import Pillow/scipy only inside the functions: ``import dings.tools``
works without either, and calling such a helper without its extra raises an ImportError that says
``pip install "dings-tools[image]"`` (or ``[matlab]``).
"""

from .__about__ import __version__
from .arguments import (
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
from .arrays import split_array
from .background import WorkerError, WorkerTraceback, yield_process, yield_threaded
from .bench import BenchResult, bench
from .convert_index import convert_index
from .download import DownloadError, download
from .exporting import ExportError, export, export_folder, export_parquet, export_webdataset
from .extras import MissingExtraError, require
from .files import load_json, open_comp, path_append, path_append_suffix
from .image import (
    decode_image,
    decode_label_map,
    encode_image,
    encode_label_map,
    recompress_jpeg,
    write_label_map,
)
from .importing import (
    ImportDataError,
    ImportResult,
    detect_source,
    import_folder,
    import_huggingface,
    import_list,
    import_samples,
    import_source,
    import_table,
    import_webdataset,
)
from .info import DatasetInfo, KeySummary, info
from .matlab import iter_fields, loadmat
from .merge import merge
from .parallel import available_cpus, parallel_map, resolve_workers
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
from .progress import print_over, progress_bar
from .prompt import NonInteractiveError, query_user
from .render import ImageInfo, cat, render_sample, render_value, sniff_image
from .shuffle import shuffle
from .sources import (
    ChecksumMismatchError,
    Md5FileError,
    MissingSourceFileError,
    SourceFileError,
    hash_md5hex,
    load_md5file,
    locate_files,
    prepare_indir,
    verify_files,
)
from .split import sample, split
from .stage import StageResult, stage
from .verify import VerificationReport, verify

__all__ = [
    "BenchResult",
    "ChecksumMismatchError",
    "DatasetInfo",
    "DownloadError",
    "ExportError",
    "ImageInfo",
    "ImportDataError",
    "ImportResult",
    "KeySummary",
    "Md5FileError",
    "MissingExtraError",
    "MissingSourceFileError",
    "NonInteractiveError",
    "SourceFileError",
    "StageResult",
    "VerificationReport",
    "WorkerError",
    "WorkerTraceback",
    "YesNoAction",
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
    "detect_source",
    "download",
    "encode_image",
    "encode_label_map",
    "export",
    "export_folder",
    "export_parquet",
    "export_webdataset",
    "hash_md5hex",
    "import_folder",
    "import_huggingface",
    "import_list",
    "import_samples",
    "import_source",
    "import_table",
    "import_webdataset",
    "info",
    "iter_fields",
    "load_json",
    "load_md5file",
    "loadmat",
    "locate_files",
    "make_parser",
    "make_parser_simple",
    "merge",
    "open_comp",
    "overlay_fixations",
    "overlay_labels",
    "parallel_map",
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
    "stage",
    "to_display_image",
    "verify",
    "verify_files",
    "write_label_map",
    "yield_process",
    "yield_threaded",
]

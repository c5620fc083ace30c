"""dings.tools imports without Pillow and scipy; their helpers then name the extra to install."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

BLOCK = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    # behave as if Pillow and scipy were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PIL", "scipy", "tifffile"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
"""

CHECK = """
import json, sys
import numpy as np
import dings.tools
from dings.tools.image import encode_image  # the submodules import without their extra too
from dings.tools import matlab

report = {
    "missing_names": [n for n in dings.tools.__all__ if not hasattr(dings.tools, n)],
    "loaded": sorted(m for m in ("PIL", "scipy", "tifffile") if m in sys.modules),
    "errors": {},
}
calls = {
    "encode_image": lambda: dings.tools.encode_image(np.zeros((2, 2), np.uint8), "PNG"),
    "decode_image": lambda: dings.tools.decode_image(b"x"),
    "recompress_jpeg": lambda: dings.tools.recompress_jpeg(b"x"),
    "encode_label_map": lambda: dings.tools.encode_label_map(np.zeros((2, 2), np.uint8)),
    "decode_label_map": lambda: dings.tools.decode_label_map(b"x"),
    "write_label_map": lambda: dings.tools.write_label_map("never-written.png", np.zeros((2, 2), np.uint8)),
    "loadmat": lambda: dings.tools.loadmat("never-read.mat"),
    "tiff_to_nd_array": lambda: dings.tools.tiff_to_nd_array("never-read.tif"),
}
for name, call in calls.items():
    try:
        call()
        report["errors"][name] = None
    except ImportError as exc:
        report["errors"][name] = ["ImportError", str(exc)]
    except Exception as exc:
        report["errors"][name] = [type(exc).__name__, str(exc)]
arr = np.array([(1,), (2,)], dtype=[("a", "i4")])
report["iter_fields"] = list(dings.tools.iter_fields(arr))
print(json.dumps(report))
"""


def run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def blocked():
    return run(BLOCK + CHECK)


def test_import_works_and_every_public_name_is_there_without_the_extras(blocked):
    assert blocked["missing_names"] == []
    assert blocked["loaded"] == []


@pytest.mark.parametrize(
    "name",
    ["encode_image", "decode_image", "recompress_jpeg", "encode_label_map", "decode_label_map", "write_label_map"],
)
def test_image_helpers_name_the_image_extra(blocked, name):
    kind, message = blocked["errors"][name]
    assert kind == "ImportError"
    assert 'pip install "dings-tools[image]"' in message and name in message


def test_loadmat_names_the_matlab_extra(blocked):
    kind, message = blocked["errors"]["loadmat"]
    assert kind == "ImportError"
    assert 'pip install "dings-tools[matlab]"' in message and "loadmat" in message


def test_tiff_to_nd_array_names_the_tiff_extra(blocked):
    kind, message = blocked["errors"]["tiff_to_nd_array"]
    assert kind == "ImportError"
    assert 'pip install "dings-tools[tiff]"' in message and "tiff_to_nd_array" in message


def test_iter_fields_needs_only_numpy(blocked):
    assert blocked["iter_fields"] == [{"a": 1}, {"a": 2}]


def test_importing_dings_tools_does_not_load_pillow_or_scipy_even_when_installed():
    code = textwrap.dedent(
        """
        import json, sys
        import dings.tools
        print(json.dumps(sorted(m for m in ("PIL", "scipy") if m in sys.modules)))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_require_names_module_and_extra():
    from dings.tools import MissingExtraError, require

    assert require("json", "none").dumps([1]) == "[1]"
    with pytest.raises(
        MissingExtraError, match=r'loadsomething needs .*no_such_mod_x.*pip install "dings-tools\[demo\]"'
    ):
        require("no_such_mod_x", "demo", "loadsomething")
    with pytest.raises(ImportError):
        require("no_such_mod_x", "demo")

"""Sample constructors: one function per sample layout, so layouts cannot drift between datasets.

Each returns a plain dict with exactly the keys its name promises (the dict is what gets packed).
Converters build samples only through these functions; the catalog's ``sample_keys`` say which
layout a dataset uses.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ADE20kData",
    "ANP460Data",
    "ANP460Experiment",
    "ImageClassificationData",
    "ImageCoarseClassificationData",
    "ImageData",
    "ImageDisparitySegmentationData",
    "ImageInstanceSegmentationData",
    "ImageNet21kData",
    "ImageSegmentationData",
    "MaskedImageSegmentationData",
    "Places2017Data",
    "SaliencyData",
    "SaliencyExperiment",
    "SaliencyTimeseriesExperiment",
]


def ImageData(key: str, image: Any) -> dict[str, Any]:
    """An image without label: ``key``, ``image`` (encoded bytes or array)."""
    return {"key": key, "image": image}


def ImageClassificationData(key: str, image: Any, label: int) -> dict[str, Any]:
    """An image with an integer class ``label``."""
    return {"key": key, "image": image, "label": label}


def ImageCoarseClassificationData(key: str, image: Any, label: int, coarse_label: int) -> dict[str, Any]:
    """An image with a fine ``label`` and a ``coarse_label`` (CIFAR100)."""
    return {"key": key, "image": image, "label": label, "coarse_label": coarse_label}


def ImageNet21kData(key: str, image: Any, label: int, label_tree: list[int]) -> dict[str, Any]:
    """An image with its ``label`` and ``label_tree`` (the label and its ancestors)."""
    return {"key": key, "image": image, "label": label, "label_tree": label_tree}


def ImageSegmentationData(key: str, image: Any, label_image: Any) -> dict[str, Any]:
    """An image with a per-pixel class ``label_image``."""
    return {"key": key, "image": image, "label_image": label_image}


def MaskedImageSegmentationData(key: str, image: Any, label_image: Any, mask: Any) -> dict[str, Any]:
    """An image with ``label_image`` and a ``mask`` (valid pixels, or extra channel such as a DSM)."""
    return {"key": key, "image": image, "label_image": label_image, "mask": mask}


def ImageDisparitySegmentationData(key: str, image: Any, label_image: Any, disparity_image: Any) -> dict[str, Any]:
    """An image with ``label_image`` and a ``disparity_image`` (Cityscapes)."""
    return {"key": key, "image": image, "label_image": label_image, "disparity_image": disparity_image}


def ImageInstanceSegmentationData(key: str, image: Any, label_image: Any, instance_image: Any) -> dict[str, Any]:
    """An image with ``label_image`` and an ``instance_image``."""
    return {"key": key, "image": image, "label_image": label_image, "instance_image": instance_image}


def ADE20kData(key: str, image: Any, label: int, label_image: Any, parts_images: list[Any]) -> dict[str, Any]:
    """ADE20k: scene ``label``, object ``label_image`` and one image per part level."""
    return {
        "key": key,
        "image": image,
        "label": label,
        "label_image": label_image,
        "parts_images": parts_images,
    }


def Places2017Data(
    key: str, image: Any, label: int, label_image: Any, instance_image: Any, boundary: Any
) -> dict[str, Any]:
    """Places2017: scene ``label``, class ``label_image``, ``instance_image`` and ``boundary``."""
    return {
        "key": key,
        "image": image,
        "label": label,
        "label_image": label_image,
        "instance_image": instance_image,
        "boundary": boundary,
    }


def SaliencyExperiment(locations: Any, map: Any) -> dict[str, Any]:
    """One viewer's fixations on an image: ``locations`` as (x, y) points, fixation ``map`` or ``None``."""
    return {"locations": locations, "map": map}


def SaliencyTimeseriesExperiment(locations: Any, map: Any, timestamps: Any, fixations: Any) -> dict[str, Any]:
    """An experiment with raw gaze ``timestamps`` and detected ``fixations`` (SALICON)."""
    return {"locations": locations, "map": map, "timestamps": timestamps, "fixations": fixations}


def ANP460Experiment(locations: Any, map: Any, answer: Any, duration: Any) -> dict[str, Any]:
    """An ANP460 experiment: fixations plus the viewer's ``answer`` and the viewing ``duration``."""
    return {"locations": locations, "map": map, "answer": answer, "duration": duration}


def SaliencyData(key: str, image: Any, experiments: list[dict[str, Any]]) -> dict[str, Any]:
    """An image with one experiment per viewer."""
    return {"key": key, "image": image, "experiments": experiments}


def ANP460Data(key: str, image: Any, experiments: list[dict[str, Any]], anp: Any, type: Any) -> dict[str, Any]:
    """ANP460: experiments plus the adjective-noun pair ``anp`` and the image ``type``."""
    return {"key": key, "image": image, "experiments": experiments, "anp": anp, "type": type}

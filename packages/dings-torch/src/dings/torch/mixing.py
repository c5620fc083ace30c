"""Mixup, CutMix and their either-or combination as dataset wrappers, with soft (mixed) labels."""

from __future__ import annotations

import math
import numbers
import random
from typing import Any

import numpy as np

import torch

from .base import PARAMS_KEY
from .wrappers import DatasetWrapper, soft_label

__all__ = ["CutMix", "Mixup", "MixupCutMix"]

#: values of ``params["mix_kind"]``
NO_MIX, MIXUP, CUTMIX = 0, 1, 2


def _check(value: Any, name: str, low: float, high: float | None = None, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if (value <= low if low_open else value < low) or (high is not None and value > high):
        bound = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high is not None else "")
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return float(value)


def _copy(image: Any) -> Any:
    return image.clone() if isinstance(image, torch.Tensor) else np.array(image, copy=True)


def _blend(a: Any, b: Any, lam: float) -> Any:
    mixed = a * lam + b * (1.0 - lam)
    if isinstance(a, torch.Tensor):
        return mixed.round().to(a.dtype) if not a.dtype.is_floating_point else mixed.to(a.dtype)
    if np.issubdtype(a.dtype, np.integer):
        return np.rint(mixed).astype(a.dtype)
    return mixed.astype(a.dtype, copy=False)


class _Mixing(DatasetWrapper):
    """Shared by the mixing wrappers: with probability ``p`` mix each sample with a partner sample.

    The label becomes a float32 vector (one-hot, then mixed with the partner's label by the image
    area or weight each contributes), also for samples that are not mixed, so batches collate.
    Images (tensors or numpy arrays, channels first unless ``channels_last``) keep their dtype.
    """

    needs_partner = True

    def __init__(
        self,
        dataset: Any,
        *,
        mixup_alpha: float,
        cutmix_alpha: float,
        p: float,
        cutmix_p: float,
        num_classes: int | None,
        image_key: str,
        label_key: str,
        channels_last: bool,
        record_params: bool,
        pool: int,
    ) -> None:
        super().__init__(dataset)
        self.mixup_alpha = _check(mixup_alpha, "mixup_alpha", 0.0, low_open=True)
        self.cutmix_alpha = _check(cutmix_alpha, "cutmix_alpha", 0.0, low_open=True)
        self.p = _check(p, "p", 0.0, 1.0)
        self.cutmix_p = _check(cutmix_p, "cutmix_p", 0.0, 1.0)
        if num_classes is not None and (
            isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1
        ):
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        if isinstance(pool, bool) or not isinstance(pool, numbers.Integral) or pool < 1:
            raise ValueError(f"pool must be an int >= 1, got {pool!r}")
        self.num_classes: int | None = num_classes
        self.image_key: str = image_key
        self.label_key: str = label_key
        self.channels_last: bool = channels_last
        self.record_params: bool = record_params
        self.pool = int(pool)

    def _image(self, sample: dict) -> Any:
        image = sample[self.image_key]
        if not isinstance(image, (torch.Tensor, np.ndarray)):
            raise TypeError(
                f"{type(self).__name__}: sample[{self.image_key!r}] is a {type(image).__name__}; "
                "turn images into tensors or arrays before mixing"
            )
        return image

    def _cutmix(self, a: Any, b: Any) -> tuple[Any, float, tuple[int, int, int, int]]:
        lam = random.betavariate(self.cutmix_alpha, self.cutmix_alpha)
        height, width = (a.shape[-3], a.shape[-2]) if self.channels_last else (a.shape[-2], a.shape[-1])
        ratio = math.sqrt(1.0 - lam)
        cut_h, cut_w = int(height * ratio), int(width * ratio)
        cy, cx = random.randrange(height), random.randrange(width)
        y0, y1 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, height)
        x0, x1 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, width)
        out = _copy(a)
        if self.channels_last:
            out[..., y0:y1, x0:x1, :] = b[..., y0:y1, x0:x1, :]
        else:
            out[..., y0:y1, x0:x1] = b[..., y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / (height * width)
        return out, lam, (y0, x0, y1, x1)

    def change(self, sample: dict, partner: dict) -> dict:
        """Return a copy of ``sample`` mixed with ``partner`` (or only with a soft label)."""
        out = dict(sample)
        label = soft_label(sample[self.label_key], self.num_classes)
        kind, lam, box = NO_MIX, 1.0, (0, 0, 0, 0)
        if self.p > 0 and random.random() < self.p:
            a, b = self._image(sample), self._image(partner)
            if tuple(a.shape) != tuple(b.shape):
                raise ValueError(
                    f"{type(self).__name__}: cannot mix images of shapes {tuple(a.shape)} ({sample.get('key')!r}) and "
                    f"{tuple(b.shape)} ({partner.get('key')!r}); resize them to one size first"
                )
            if random.random() < self.cutmix_p:
                kind = CUTMIX
                out[self.image_key], lam, box = self._cutmix(a, b)
            else:
                kind = MIXUP
                lam = random.betavariate(self.mixup_alpha, self.mixup_alpha)
                out[self.image_key] = _blend(a, b, lam)
            label = label * lam + soft_label(partner[self.label_key], self.num_classes) * (1.0 - lam)
        out[self.label_key] = label
        if self.record_params:
            params = dict(sample.get(PARAMS_KEY) or {})
            params.update(
                mix_kind=kind, mix_lam=lam, mix_box=box, mix_partner=str(partner.get("key", "")) if kind else ""
            )
            out[PARAMS_KEY] = params
        return out


class Mixup(_Mixing):
    """Mixup: blend each image with a partner's, ``lam * image + (1 - lam) * partner``, ``lam ~ Beta(alpha, alpha)``.

    Args:
        dataset: a dataset of sample dicts with image tensors/arrays and labels.
        alpha: Beta distribution parameter, ``> 0``.
        p: probability of mixing a sample.
        num_classes: number of classes (needed for int labels).
        image_key: key of the image.
        label_key: key of the label (int or soft vector); it becomes a mixed float32 vector.
        channels_last: images are ``(…, H, W, C)`` instead of ``(…, C, H, W)``.
        record_params: store ``mix_kind`` (0 none, 1 mixup, 2 cutmix), ``mix_lam``, ``mix_box``
            ``(y0, x0, y1, x1)`` and ``mix_partner`` (its key) in ``sample["__params__"]``.
        pool: for iterable datasets, partners come from the last ``pool`` samples.

    Raises:
        ValueError: an argument is out of range.
    """

    def __init__(
        self,
        dataset: Any,
        alpha: float = 1.0,
        p: float = 1.0,
        *,
        num_classes: int | None = None,
        image_key: str = "image",
        label_key: str = "label",
        channels_last: bool = False,
        record_params: bool = False,
        pool: int = 16,
    ) -> None:
        super().__init__(
            dataset,
            mixup_alpha=alpha,
            cutmix_alpha=1.0,
            p=p,
            cutmix_p=0.0,
            num_classes=num_classes,
            image_key=image_key,
            label_key=label_key,
            channels_last=channels_last,
            record_params=record_params,
            pool=pool,
        )


class CutMix(_Mixing):
    """CutMix: paste a box of a partner's image; the label weight is the area each image keeps.

    The box covers ``1 - lam`` of the image (``lam ~ Beta(alpha, alpha)``) around a uniform centre,
    clipped at the borders; ``lam`` is then recomputed from the clipped box. Arguments as for
    :class:`Mixup`.
    """

    def __init__(
        self,
        dataset: Any,
        alpha: float = 1.0,
        p: float = 1.0,
        *,
        num_classes: int | None = None,
        image_key: str = "image",
        label_key: str = "label",
        channels_last: bool = False,
        record_params: bool = False,
        pool: int = 16,
    ) -> None:
        super().__init__(
            dataset,
            mixup_alpha=1.0,
            cutmix_alpha=alpha,
            p=p,
            cutmix_p=1.0,
            num_classes=num_classes,
            image_key=image_key,
            label_key=label_key,
            channels_last=channels_last,
            record_params=record_params,
            pool=pool,
        )


class MixupCutMix(_Mixing):
    """Either Mixup or CutMix: with probability ``p`` mix, choosing CutMix with probability ``cutmix_p``.

    Args:
        dataset: a dataset of sample dicts.
        mixup_alpha: Beta parameter of Mixup.
        cutmix_alpha: Beta parameter of CutMix.
        p: probability of mixing a sample.
        cutmix_p: probability that a mixed sample uses CutMix rather than Mixup.
        num_classes, image_key, label_key, channels_last, record_params, pool: as for :class:`Mixup`.

    Raises:
        ValueError: an argument is out of range.
    """

    def __init__(
        self,
        dataset: Any,
        mixup_alpha: float = 1.0,
        cutmix_alpha: float = 1.0,
        p: float = 1.0,
        cutmix_p: float = 0.5,
        *,
        num_classes: int | None = None,
        image_key: str = "image",
        label_key: str = "label",
        channels_last: bool = False,
        record_params: bool = False,
        pool: int = 16,
    ) -> None:
        super().__init__(
            dataset,
            mixup_alpha=mixup_alpha,
            cutmix_alpha=cutmix_alpha,
            p=p,
            cutmix_p=cutmix_p,
            num_classes=num_classes,
            image_key=image_key,
            label_key=label_key,
            channels_last=channels_last,
            record_params=record_params,
            pool=pool,
        )

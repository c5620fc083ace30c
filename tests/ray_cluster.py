"""One local Ray instance for a test module (2 CPUs on 127.0.0.1), shut down after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def local_ray() -> Iterator[Any]:
    """Start Ray with 2 CPUs on 127.0.0.1, without dashboard or driver logs; yield its context."""
    import ray

    context = ray.init(
        num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False, configure_logging=False
    )
    try:
        yield context
    finally:
        ray.shutdown()

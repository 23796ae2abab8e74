"""Typed readers for environment variables.

Every setting edms takes comes through these helpers so that nonsense fails loudly at start-up
(`ImproperlyConfigured`) instead of surfacing later as a confusing error. A secret may also be
given as `NAME_FILE` (a path whose content is the value), the usual way to pass secrets to
containers.
"""

from __future__ import annotations

import ipaddress
import math
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """The variable's value, or the content of the file named by `NAME_FILE`, or `default`."""
    if name in os.environ:
        return os.environ[name]
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return default


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name, "").strip().lower()
    if name not in os.environ and f"{name}_FILE" not in os.environ:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = env_str(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = env_str(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    return value


def env_size(name: str, default: int) -> int:
    """A byte count such as `2147483648`, `512M` or `5G` (binary units)."""
    raw = env_str(name, "").strip().upper()
    if not raw:
        return default
    units = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    multiplier = 1
    if raw[-1] in units:
        multiplier = units[raw[-1]]
        raw = raw[:-1]
    elif raw.endswith("B"):
        raw = raw[:-1]
    try:
        return int(float(raw) * multiplier)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a size (e.g. 2G, 512M)") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = env_str(name, "")
    if not raw.strip():
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """A comma-separated list of IP networks (`10.20.0.0/16, fd12::/48`), each checked."""
    networks = env_list(name)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {network!r} is not an IP network") from exc
    return networks

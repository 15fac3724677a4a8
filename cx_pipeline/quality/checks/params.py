"""Validation helpers shared by the checks' settings models: names must exist in the registry."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationInfo

from cx_pipeline.ingest.registry import Registry


def registry_of(info: ValidationInfo) -> Registry:
    return (info.context or {})["registry"]


def known(values: Iterable[str], allowed: Iterable[str], what: str) -> None:
    allowed = sorted(set(allowed))
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; known: {allowed}")


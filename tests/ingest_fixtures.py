"""Small hand-made registries and landing files for the ingestion tests."""

from __future__ import annotations

import copy
from pathlib import Path

import polars as pl
import yaml

from cx_pipeline.ingest.registry import Registry, load_registry
from cx_pipeline.paths import DataPaths

# One source per landing format; between them every field type and check appears once.
TEST_REGISTRY: dict = {
    "defaults": {
        "phone_default_region": "JP",
        "timezone": "Asia/Tokyo",
        "encoding": "utf-8",
        "currencies": ["JPY", "USD"],
    },
    "sources": {
        "people": {
            "description": "CSV with every field type.",
            "department": "sales",
            "channel": "crm",
            "format": "csv",
            "path": "*.csv",
            "record_id": "person_id",
            "touchpoint": {"type": {"value": "person_seen"}, "timestamp": "seen_at"},
            "fields": {
                "person_id": {"column": "id", "type": "string", "required": True, "identifier": "crm_id"},
                "name": {"column": "name", "type": "name", "pii": True, "attribute": True},
                "email": {"column": "email", "type": "email", "identifier": "email", "pii": True, "attribute": True},
                "phone": {"column": "phone", "type": "phone", "identifier": "phone", "pii": True},
                "country": {"column": "country", "type": "country"},
                "score": {"column": "score", "type": "int", "min": 0, "max": 10},
                "ratio": {"column": "ratio", "type": "float"},
                "amount": {"column": "amount", "type": "decimal", "min": 0},
                "currency": {"column": "currency", "type": "currency"},
                "active": {"column": "active", "type": "bool"},
                "birthday": {"column": "birthday", "type": "date", "format": "%Y/%m/%d"},
                "seen_at": {"column": "seen_at", "type": "timestamp", "format": "%Y-%m-%d %H:%M:%S", "required": True},
                "tier": {"column": "tier", "type": "string", "allowed": ["gold", "silver"]},
            },
        },
        "clicks": {
            "description": "NDJSON events.",
            "department": "marketing",
            "channel": "web",
            "format": "ndjson",
            "path": "*.ndjson",
            "record_id": "click_id",
            "touchpoint": {"type": {"field": "kind"}, "timestamp": "at"},
            "fields": {
                "click_id": {"column": "click_id", "type": "string", "required": True},
                "kind": {"column": "kind", "type": "string", "required": True, "allowed": ["view", "click"]},
                "at": {"column": "at", "type": "timestamp", "format": "iso8601", "required": True},
                "count": {"column": "count", "type": "int"},
                "email": {"column": "user.email", "type": "email", "identifier": "email"},
            },
        },
        "usage": {
            "description": "Parquet with a composite record id.",
            "department": "product",
            "channel": "app",
            "format": "parquet",
            "path": "*.parquet",
            "record_id": ["account_id", "login", "day"],
            "touchpoint": {"type": {"value": "product_used"}, "timestamp": "day"},
            "fields": {
                "account_id": {"column": "account_id", "type": "string", "required": True},
                "login": {"column": "login", "type": "string", "required": True, "identifier": "app_login"},
                "day": {"column": "usage_date", "type": "date", "required": True},
                "minutes": {"column": "minutes", "type": "int", "min": 0},
                "last_seen": {"column": "last_seen", "type": "timestamp"},
                "spend": {"column": "spend", "type": "decimal"},
            },
        },
    },
}

PEOPLE_HEADER = "id,name,email,phone,country,score,ratio,amount,currency,active,birthday,seen_at,tier"


def registry_doc() -> dict:
    return copy.deepcopy(TEST_REGISTRY)


def write_registry(directory: Path, doc: dict | None = None, name: str = "sources.yml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(doc if doc is not None else TEST_REGISTRY, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_test_registry(directory: Path) -> Registry:
    return load_registry(write_registry(directory))


def write_landing(paths: DataPaths, source: str, name: str, content: str | bytes) -> Path:
    path = paths.landing_dir(source) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_parquet_landing(paths: DataPaths, source: str, name: str, frame: pl.DataFrame) -> Path:
    path = paths.landing_dir(source) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def people_csv(*rows: str) -> str:
    return "\n".join([PEOPLE_HEADER, *rows]) + "\n"


def good_person(person_id: str = "P1", **overrides: str) -> str:
    """A valid `people` row, with some columns replaced."""
    values = {
        "id": person_id,
        "name": "山田\u3000太郎",
        "email": " Taro@Example.COM ",
        "phone": "03-1234-5678",
        "country": "日本",
        "score": "7",
        "ratio": "0.5",
        "amount": '"1,200.50"',
        "currency": "jpy",
        "active": "yes",
        "birthday": "1990/01/31",
        "seen_at": "2024-01-05 09:30:00",
        "tier": "gold",
    }
    values.update(overrides)
    return ",".join(values[c] for c in PEOPLE_HEADER.split(","))


def output(result, name: str) -> pl.DataFrame:
    return pl.read_parquet(result.outputs[name])

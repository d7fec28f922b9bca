"""The JSON Schema of a saved Report, shipped as ``advisor/reports/report.schema.json``.

The file is generated from the pydantic model and a test keeps the two in sync; regenerate it with
``python -m advisor.reports.schema > advisor/reports/report.schema.json``.
jsonschema is imported only when a validation is asked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
SCHEMA_ID = "https://github.com/advisor/gpu-advisor/report.schema.json"


def generate_schema() -> dict[str, Any]:
    """The Report's JSON Schema as the pydantic model defines it today."""
    from advisor.report import SCHEMA_VERSION, Report

    schema = Report.model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "advisor report",
        "description": f"A report written by `advisor check` (schema_version {SCHEMA_VERSION}).",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
    return schema


def schema_text() -> str:
    """The schema as it is written to the shipped file (stable key order, trailing newline)."""
    return json.dumps(generate_schema(), indent=2, sort_keys=True) + "\n"


def shipped_schema() -> dict[str, Any]:
    """The schema file that ships inside the package."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


def validation_errors(data: object) -> list[str]:
    """Every way ``data`` (parsed JSON) breaks the shipped schema, as ``path: message`` lines."""
    import jsonschema  # type: ignore[import-untyped,unused-ignore]

    validator = jsonschema.Draft202012Validator(shipped_schema())
    errors = sorted(validator.iter_errors(data), key=lambda err: list(err.absolute_path))
    return [f"{'/'.join(str(p) for p in err.absolute_path) or '(top)'}: {err.message}" for err in errors]


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import sys

    sys.stdout.write(schema_text())

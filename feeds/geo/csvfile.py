"""Reading a CSV file whose header must name known columns, with errors that say where."""
from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def read_checked_csv(path: Path, required: Sequence[str], columns: Sequence[str],
                     error: type[ValueError], parse: Callable[[csv.DictReader], T]) -> T:
    """Open a CSV, check its header (missing or unknown columns) and hand the rows to
    `parse`; read failures and header problems raise `error` naming the file."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in required if c not in header]
            unknown = [c for c in header if c not in columns]
            if missing or unknown:
                raise error(
                    f"{path} row 1 (header): " + "; ".join(
                        ([f"missing column(s) {', '.join(missing)}"] if missing else [])
                        + ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []))
                    + f"; expected {','.join(columns)}")
            reader.fieldnames = header
            return parse(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise error(f"{path}: cannot read: {e}") from None

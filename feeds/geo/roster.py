"""The officer roster file: CSV of officer_id,name,grid, validated line by line."""
from __future__ import annotations

import csv
import os
from pathlib import Path

from domain.model import Officer

_OFFICER_FIELDS = ("officer_id", "name", "grid")


def save_officers(officers: list[Officer], path: str | Path) -> Path:
    """Write officers as CSV (officer_id,name,grid), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(_OFFICER_FIELDS)
        writer.writerows((o.officer_id, o.name, o.grid) for o in officers)
    os.replace(tmp, path)
    return path


def load_officers(path: str | Path) -> list[Officer]:
    """Read officers from CSV (officer_id,name,grid); raises ValueError naming the bad line."""
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(header) != _OFFICER_FIELDS:
            raise ValueError(f"{path}: header must be {','.join(_OFFICER_FIELDS)}, got {header}")
        officers = []
        for line, row in enumerate(reader, start=2):
            if len(row) != 3 or not all(v.strip() for v in row):
                raise ValueError(f"{path}:{line}: want 3 non-empty fields, got {row}")
            officers.append(Officer(row[0], row[1], row[2]))
    return officers

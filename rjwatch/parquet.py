"""Parquet output for `rjwatch export`, written in record batches so memory stays flat."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from typing import IO

from rjwatch.extras import require as _require

#: Columns stored as numbers; nested values (evidence, sightings) are stored as JSON text.
_INTS = {"id", "duplicate_of", "revision", "source_id"}
_FLOATS = {"relevance"}


def require() -> None:
    _require("pyarrow.parquet", "parquet", "export --format parquet")


def write(rows: Iterable[dict], columns: list[str], stream: IO[bytes], *, batch_rows: int) -> int:
    pa = _require("pyarrow", "parquet", "export --format parquet")
    pq = _require("pyarrow.parquet", "parquet", "export --format parquet")
    schema = pa.schema(
        [(c, pa.int64() if c in _INTS else pa.float64() if c in _FLOATS else pa.string()) for c in columns]
    )
    n = 0
    rows = iter(rows)
    with pq.ParquetWriter(stream, schema, compression="zstd") as writer:
        while batch := list(islice(rows, batch_rows)):
            data = {c: [_cell(r[c]) for r in batch] for c in columns}
            writer.write_table(pa.Table.from_pydict(data, schema=schema))
            n += len(batch)
    return n


def _cell(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value

"""A people data set made from a fixed seed: who lives where, earns what, was seen when."""

import csv
import datetime as dt
import random
from pathlib import Path

COLUMNS: list[dict] = [
    {"name": "person_id", "type": "string"},
    {"name": "region", "type": "string"},
    {"name": "income", "type": "float", "lower": 0, "upper": 100000},
    {"name": "age", "type": "integer", "lower": 18, "upper": 90},
    {"name": "seen_on", "type": "date"},
    {"name": "is_member", "type": "boolean"},
]
REGIONS = ("changsha", "zhuzhou", "xiangtan")
# a region with only a few people: below any sensible k
SMALL_REGION = "zhangjiajie"


def people(n: int, *, seed: int = 7, small: int = 4) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        region = SMALL_REGION if i < small else REGIONS[i % len(REGIONS)]
        rows.append(
            {
                "person_id": f"p{i:07d}",
                "region": region,
                "income": round(rng.uniform(1000, 90000), 2),
                "age": rng.randint(18, 90),
                "seen_on": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 364)),
                "is_member": rng.random() < 0.3,
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict], *, columns=None) -> Path:
    names = columns or [c["name"] for c in COLUMNS]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in rows:
            writer.writerow(
                [str(row[n]).lower() if isinstance(row[n], bool) else row[n] for n in names]
            )
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [c["name"] for c in COLUMNS]
    table = pa.table({n: [row[n] for row in rows] for n in names})
    pq.write_table(table, path)
    return path

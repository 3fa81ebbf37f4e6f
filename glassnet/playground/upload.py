"""Your own 2-D data: a CSV file of rows ``x1,x2,label`` (an optional header line), checked before it is used.

Labels that are all 0/1 (or −1/+1) make a classification problem, any other numbers a regression problem.
"""

from __future__ import annotations

import csv
import io

import numpy as np

MIN_ROWS, MAX_ROWS = 10, 5000


class UploadError(ValueError):
    """The uploaded text is not a usable x1,x2,label table."""


def parse_csv(text: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``(x (n, 2) float32, y (n,) float32, problem)`` from CSV text; the rows are shuffled (with a fixed seed, so
    the same file gives the same split) because the training set is the first part of the data."""
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]  # a header line
    if not MIN_ROWS <= len(rows) <= MAX_ROWS:
        raise UploadError(f"The CSV file needs from {MIN_ROWS} to {MAX_ROWS} rows of data; this one has {len(rows)}.")
    for number, row in enumerate(rows, start=1):
        if len(row) != 3 or not _numeric(row):
            raise UploadError(f"Row {number} of the CSV data should be three numbers, x1,x2,label; it reads "
                              f"“{','.join(row[:4])[:60]}”.")
    table = np.array(rows, dtype=np.float64)
    if not np.all(np.isfinite(table)):
        raise UploadError("The CSV file holds values that are not numbers (NaN or infinity); remove them and upload "
                          "it again.")
    table = table[np.random.default_rng(0).permutation(len(table))]
    x, y = table[:, :2].astype(np.float32), table[:, 2]
    labels = set(np.unique(y).tolist())
    if labels <= {0.0, 1.0} or labels <= {-1.0, 1.0}:
        return x, (y > 0).astype(np.float32), "classification"
    return x, y.astype(np.float32), "regression"


def _numeric(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True

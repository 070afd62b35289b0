"""``vinet ideal``: print the generators of the approximate vanishing ideal of a data file.

The file is a ``.csv`` (an optional header row names the variables) or a ``.npy``
2-D array.  With ``--label-column`` one generator set is fitted per class.  A folder of
shards written by ``vinet extract --shard i/n`` (:func:`neural.save_shard`) is read back
in order (:func:`neural.load_shards`), so extraction can run on many machines and the
fit on one; shards that carry labels are fitted per class.

Examples
--------
``vinet ideal circle.csv --psi 1e-4 --max-degree 3``
``vinet ideal iris.csv --label-column -1 --method abm --format json``
``vinet ideal latents/ --method abm --psi 1e-3`` (a folder of shards)
"""

from __future__ import annotations

import argparse
import csv
import json
import keyword
import re
from pathlib import Path
from typing import Any

import numpy as np

from bridge._errors import BridgeError
from bridge.commands._common import DeprecatedAlias

FORMATS = ("text", "latex", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ideal`` options to ``parser``."""
    from algebra import METHODS, ORACLES

    parser.add_argument("file", help="data file: .csv (optional header row) or .npy (2-D), "
                        "or a folder of shards from `vinet extract --shard`")
    parser.add_argument("--method", choices=METHODS, default="oavi",
                        help="algorithm (default: oavi)")
    parser.add_argument("--psi", type=float, default=0.005,
                        help="vanishing tolerance: mean of g(x)^2 on the data (default: 0.005)")
    parser.add_argument("--max-degree", type=int, default=10, dest="max_degree",
                        help="largest generator degree (default: 10)")
    # The name of every other command; --degree stays accepted, hidden, and warns.
    parser.add_argument("--degree", type=int, dest="max_degree", action=DeprecatedAlias,
                        replacement="--max-degree", help=argparse.SUPPRESS)
    parser.add_argument("--order", choices=("deglex", "degrevlex"), default="deglex",
                        help="term order (default: deglex)")
    parser.add_argument("--oracle", choices=ORACLES, default="bpcg",
                        help="OAVI's convex oracle (default: bpcg)")
    parser.add_argument("--label-column", type=int, default=None,
                        help="column index of class labels (negative counts from the end); "
                             "fits one generator set per class")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="output: sympy text, LaTeX, or JSON (default: text)")


def _identifier(name: str, index: int) -> str:
    """A valid, non-keyword Python identifier for a column name (for sympy symbols)."""
    ident = re.sub(r"\W", "_", name.strip())
    if not ident or ident[0].isdigit() or keyword.iskeyword(ident):
        ident = f"x{index}" if not ident else f"_{ident}"
    return ident


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_table(path: str, label_column: int | None) -> tuple[np.ndarray, Any, list[str]]:
    """Read data, labels and variable names from a ``.csv`` or ``.npy`` file or shards.

    Parameters
    ----------
    path : str
        The file, or a folder of shards written by :func:`neural.save_shard` (their
        labels, if saved, become the class labels).
    label_column : int or None
        Column holding class labels (removed from the data), or ``None``.

    Returns
    -------
    X : ndarray of shape (m, n), float64
    labels : ndarray of shape (m,) or None
    names : list of str
        Variable names: the header of a csv, else ``x0, x1, ...``.
    """
    file = Path(path)
    if file.is_dir():
        return _load_shards(path, label_column)
    if not file.is_file():
        raise BridgeError(f"FILE {path!r} does not exist; pass a .csv or .npy data file.")
    suffix = file.suffix.lower()
    header: list[str] | None = None
    if suffix == ".npy":
        try:
            table = np.load(file, allow_pickle=False)
        except ValueError as exc:  # object arrays, or not a .npy file at all
            raise BridgeError(
                f"FILE {path!r} is not a numeric .npy array ({exc}); save the data with "
                f"np.save as a float array."
            ) from None
        if table.ndim != 2:
            raise BridgeError(
                f"FILE {path!r} holds an array of shape {table.shape}; pass a 2-D array "
                f"(samples x variables)."
            )
        rows = table
    elif suffix == ".csv":
        with file.open(newline="", encoding="utf-8") as handle:
            cells = [row for row in csv.reader(handle) if row]
        if not cells:
            raise BridgeError(f"FILE {path!r} is empty; pass a csv with one sample per row.")
        data_cols = [j for j in range(len(cells[0]))
                     if label_column is None or j != label_column % len(cells[0])]
        if not all(_is_number(cells[0][j]) for j in data_cols):
            header, cells = cells[0], cells[1:]
        if not cells:
            raise BridgeError(
                f"FILE {path!r} has a header row but no data; pass a csv with one sample "
                f"per row."
            )
        widths = [len(row) for row in cells]
        if min(widths) != max(widths) or (header is not None and len(header) != widths[0]):
            first = next(i for i, w in enumerate(widths)
                         if w != (widths[0] if header is None else len(header)))
            raise BridgeError(
                f"FILE {path!r} has rows of different lengths (data row {first + 1} has "
                f"{widths[first]} cells); every row needs the same number of columns."
            )
        rows = np.array(cells, dtype=object)
    else:
        raise BridgeError(
            f"FILE {path!r} has the suffix {suffix!r}; pass a .csv or .npy file."
        )
    n_cols = rows.shape[1]
    labels = None
    keep = list(range(n_cols))
    if label_column is not None:
        if not -n_cols <= label_column < n_cols:
            raise BridgeError(
                f"--label-column {label_column} is out of range for {n_cols} columns; "
                f"pass an index in [{-n_cols}, {n_cols - 1}]."
            )
        col = label_column % n_cols
        labels = np.asarray(rows[:, col])
        if labels.dtype == object:
            labels = labels.astype(str)
        keep.remove(col)
    try:
        X = np.asarray(rows[:, keep], dtype=np.float64)
    except ValueError as exc:
        raise BridgeError(
            f"FILE {path!r} has a non-numeric entry ({exc}); every column except "
            f"--label-column must hold numbers."
        ) from None
    names = ([_identifier(header[j], i) for i, j in enumerate(keep)] if header
             else [f"x{i}" for i in range(len(keep))])
    if len(set(names)) != len(names):
        names = [f"x{i}" for i in range(len(keep))]
    return X, labels, names


def _load_shards(path: str, label_column: int | None) -> tuple[np.ndarray, Any, list[str]]:
    """Latents and labels of a shard folder, concatenated in shard order."""
    from neural import load_shards  # torch is imported only for this input

    if label_column is not None:
        raise BridgeError(
            f"--label-column {label_column} applies to .csv and .npy tables; the shards in "
            f"{path!r} carry their labels themselves. Drop --label-column."
        )
    X, labels = load_shards(path)
    return np.asarray(X, dtype=np.float64), labels, [f"x{j}" for j in range(X.shape[1])]


def _fit(X: np.ndarray, labels: Any, args: argparse.Namespace) -> list[tuple[Any, Any]]:
    """(label, PolynomialSet) pairs: one without labels, one per class with them."""
    from algebra import fit_vanishing_ideal

    kw: dict[str, Any] = dict(method=args.method, psi=args.psi, max_degree=args.max_degree,
                              order=args.order)
    if args.method == "oavi":
        kw["oracle"] = args.oracle
    if labels is None:
        return [(None, fit_vanishing_ideal(X, **kw))]
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise BridgeError(
            f"Class {_label_text(classes[np.argmin(counts)])!r} of --label-column has "
            f"{counts.min()} sample; each class needs at least 2 samples to fit its "
            f"vanishing ideal. Remove the class or add samples."
        )
    return [(label, fit_vanishing_ideal(X[labels == label], **kw)) for label in classes]


def _label_text(label: Any) -> Any:
    return label.item() if isinstance(label, np.generic) else label


def run(args: argparse.Namespace) -> int:
    """Fit and print the generators."""
    if args.max_degree < 1:
        raise BridgeError(f"--max-degree {args.max_degree} must be at least 1 (the largest "
                          "degree).")
    X, labels, names = load_table(args.file, args.label_column)
    results = _fit(X, labels, args)
    if args.format == "json":
        out = {
            "file": args.file, "method": args.method, "psi": args.psi,
            "max_degree": args.max_degree, "order": args.order, "variables": names,
            "classes": [
                {
                    "label": _label_text(label),
                    "order_ideal": None if g.order_ideal is None else g.order_ideal.tolist(),
                    "generators": [
                        {"expression": str(expr), "latex": tex, "mse": float(mse),
                         "degree": int(deg), "leading_term": lead.tolist(),
                         "sparsity": float(sp)}
                        for expr, tex, mse, deg, lead, sp in zip(
                            g.to_sympy(symbols=names), g.to_latex(symbols=names), g.mse,
                            g.degrees, g.leading_terms, g.sparsity, strict=True)
                    ],
                }
                for label, g in results
            ],
        }
        print(json.dumps(out, indent=2))
        return 0
    for label, g in results:
        title = f"{len(g)} generator{'' if len(g) == 1 else 's'}" + (
            "" if label is None else f" of class {label}")
        if args.format == "latex":
            print(f"% {title}")
            for tex in g.to_latex(symbols=names):
                print(f"{tex} \\\\")
            continue
        print(f"# {title} ({args.method}, psi={args.psi})")
        for j, (expr, mse) in enumerate(zip(g.to_sympy(symbols=names), g.mse, strict=True)):
            # Six significant digits for reading; --format json keeps full precision.
            print(f"g{j} = {expr.evalf(6)}    # mse {mse:.3g}")
    return 0

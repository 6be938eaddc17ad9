"""Small trained heads shipped with Sift as package data (model card: docs/models.md).

- `informative_head.npz`: informativeness, a logistic regression on the 384-d MiniLM embedding
  (`flows.operators.informative.InformativenessModel`, no lexical blocks); the flow's default.
- `review_type_head.npz`: review type, a softmax regression on the same embedding
  (`flows.operators.review_type.TypeModel` with `inputs="embedding"`); shipped, not the default.

Both are rebuilt by `python -m flows.train_heads`, only from labels the project may redistribute, and
are GPL-3.0 (see `NOTICE`).

- `issue_map.npz`: a linear map of the same embedding that the issue step compares reviews by
  (`flows.operators.issues.vector_of`), rebuilt by `python -m flows.train_issue_map` from the project's
  own written issue groups only (not GPL: no third-party text or label goes into it). Files are plain arrays written by `write_npz`: no pickle, and the same
arrays always give the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
INFORMATIVE_HEAD = MODELS_DIR / "informative_head.npz"
REVIEW_TYPE_HEAD = MODELS_DIR / "review_type_head.npz"
ISSUE_MAP = MODELS_DIR / "issue_map.npz"
# SIFT_INFORMATIVE_MODEL / SIFT_TYPES_MODEL set to this word choose the zero-shot model explicitly.
ZERO_SHOT = "zero-shot"


def is_zero_shot(path: Path | None) -> bool:
    """True when `path` is unset or names the zero-shot model (`.../zero-shot`)."""
    return path is None or path.name == ZERO_SHOT


def write_npz(path: Path, arrays: Mapping[str, object]) -> None:
    """A deflated `.npz` that `np.load(allow_pickle=False)` reads, byte-identical for equal arrays.

    `np.savez` stamps each member with the current time; here every member carries a fixed date and
    members are written in name order, so a rebuilt model can be compared with the shipped one.
    """
    import numpy as np

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            value = np.asanyarray(arrays[name])
            if value.dtype.hasobject:
                raise ValueError(f"{path}: array {name!r} holds Python objects; only plain arrays are written")
            member = io.BytesIO()
            np.lib.format.write_array(member, value, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            archive.writestr(info, member.getvalue())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())

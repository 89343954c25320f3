"""Find the vendor payloads (recorded Slack/PagerDuty wire data) that tests replay.

They live outside the repository, in ``shared/vendor-payloads`` beside the clone; CI lays
it out the same way. ``VENDOR_PAYLOADS_DIR`` overrides the location.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def vendor_payloads_dir() -> Path:
    override = os.environ.get("VENDOR_PAYLOADS_DIR")
    folder = Path(override) if override else REPO_ROOT.parent / "shared" / "vendor-payloads"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"vendor payloads folder not found at {folder}: tests expect shared/vendor-payloads "
            "beside the repository clone (or set VENDOR_PAYLOADS_DIR)"
        )
    return folder


def vendor_payload_path(name: str) -> Path:
    path = vendor_payloads_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"vendor payload {name!r} not found in {path.parent}")
    return path


def vendor_bytes(name: str) -> bytes:
    return vendor_payload_path(name).read_bytes()


def vendor_json(name: str) -> Any:
    return json.loads(vendor_bytes(name))

"""Add PyPI's sha256 hashes to every pin of the lock files (pip's hash-checking mode).

    python scripts/hash_locks.py requirements/*.lock      # rewrite the files in place
    python scripts/hash_locks.py --check requirements/*.lock

Each ``name==version`` line gets one ``--hash`` for every file PyPI publishes for that
release (wheels for every platform and the sdist), read from PyPI's JSON simple API
(PEP 691), so the lock installs on any machine pip can install it on, and setup.sh
installs with ``--require-hashes``: a file whose bytes differ from PyPI's is refused.
Called by scripts/lock.sh after it writes the pins; run it by hand after editing a pin.
``--check`` fails when a pin has no hashes (no network needed).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from pathlib import Path
from typing import Dict, List, Set, Tuple

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

INDEX = "https://pypi.org/simple"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def read_pins(path: Path) -> Tuple[List[str], List[Tuple[str, str]]]:
    """(comment lines at the top, [(name, version)]) of a lock file, hashed or not."""
    header: List[str] = []
    pins: List[Tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--hash"):
            continue
        if stripped.startswith("#"):
            if not pins:
                header.append(line)
            continue
        match = PIN.match(stripped)
        if not match:
            raise SystemExit(f"{path}: not a pin: {line!r}")
        pins.append((match.group(1), match.group(2)))
    return header, pins


def release_hashes(name: str, version: str) -> List[str]:
    """The sha256 of every file PyPI publishes for name==version, sorted."""
    url = f"{INDEX}/{canonicalize_name(name)}/"
    request = urllib.request.Request(  # noqa: S310  (a fixed https:// index)
        url, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        files = json.load(response)["files"]
    want = canonicalize_version(version)
    found: Set[str] = set()
    for entry in files:
        filename = entry["filename"]
        try:
            if filename.endswith(".whl"):
                file_version = str(parse_wheel_filename(filename)[1])
            else:
                file_version = str(parse_sdist_filename(filename)[1])
        except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
            continue
        if canonicalize_version(file_version) == want and entry.get("hashes", {}).get("sha256"):
            found.add(entry["hashes"]["sha256"])
    if not found:
        raise SystemExit(f"PyPI has no files for {name}=={version}")
    return sorted(found)


def render(header: List[str], pins: List[Tuple[str, str]], hashes: Dict[Tuple[str, str], List[str]]) -> str:
    out = list(header)
    for name, version in pins:
        lines = [f"{name}=={version}"] + [f"    --hash=sha256:{h}" for h in hashes[(name, version)]]
        out.append(" \\\n".join(lines))
    return "\n".join(out) + "\n"


def unhashed(path: Path) -> List[str]:
    """Pins of a lock file without any hash."""
    bad: List[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if PIN.match(line.strip()):
            following = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if not (line.rstrip().endswith("\\") and following.startswith("--hash=sha256:")):
                bad.append(line.strip())
    return bad


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail when a pin has no hashes")
    parser.add_argument("locks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.check:
        problems = [f"{path}: {pin} has no --hash" for path in args.locks for pin in unhashed(path)]
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in args.locks:
        header, pins = read_pins(path)
        hashes = {pin: release_hashes(*pin) for pin in pins}
        path.write_text(render(header, pins, hashes), encoding="utf-8")
        print(f"{path}: {len(pins)} pins, {sum(len(h) for h in hashes.values())} hashes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

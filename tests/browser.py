"""Headless Chromium (Debian's package, installed by `make test`) for tests that look at a page."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Offline and quiet: no first-run, sync, component or background network traffic (this machine has
# no network, and Chromium would retry its connections at every start).
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
)  # fmt: skip


def chromium() -> str:
    path = shutil.which("chromium") or CHROMIUM
    assert Path(path).is_file(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium package (as root)"
    return path


def screenshot(url: str, png: Path, width: int = 1300, height: int = 3600, wait_ms: int = 3000) -> Path:
    """A screenshot of `url` as a person's browser shows it, after `wait_ms` of page time."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--virtual-time-budget={wait_ms}", f"--screenshot={png}", url],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    assert png.is_file() and png.stat().st_size > 0, f"Chromium wrote no screenshot of {url}"
    return png


def colour_counts(png: Path) -> Counter:
    """How many pixels of each RGB colour the screenshot has."""
    from PIL import Image

    with Image.open(png) as image:
        return Counter(image.convert("RGB").getdata())


def pixels_near(counts: Counter, colour: str, tolerance: int = 6) -> int:
    """Pixels within `tolerance` of `colour` (#rrggbb) on every channel."""
    target = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return sum(n for rgb, n in counts.items() if all(abs(a - b) <= tolerance for a, b in zip(rgb, target)))

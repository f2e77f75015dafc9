"""``papercrane bench media``: CPU per 12-megapixel phone photo through the upload pipeline.

The photo is built at run time (in a child process, so its numpy temporaries do not count in
this process's peak RSS): a picture scikit-image ships, upscaled to 4032x3024, with sensor-like
noise so it compresses like a real photo (~4 MB at JPEG q92), and an EXIF block with an
orientation, GPS position and device name, as a phone writes it. Orientation 6 (the default)
is a portrait shot stored sideways: the pipeline must rotate it and its widest variant is
1440x1920; ``--orientation 1`` is the landscape case (1440x1080).

Each photo takes the production path on one core: ``clean_original`` (what the upload request
does: decode, orient, sRGB, metadata-free re-encode) then ``derive`` on the clean bytes (what the
worker does: every variant, blurhash, dominant colour, PDQ). libvips is told to use one thread,
and the figures are ``time.process_time()`` (CPU of all threads) per photo, with wall time
beside it; ``p50_ms`` is the sum of the two stages, ``clean_p50_ms`` and ``derive_p50_ms`` each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

os.environ["VIPS_CONCURRENCY"] = "1"  # before pyvips is imported anywhere in this process
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "papercrane.settings")

SIZE = (4032, 3024)


def build_photo(orientation: int, seed: int = 7) -> bytes:
    """A 12 MP JPEG q92 with phone-like EXIF (orientation, GPS, make/model, capture time)."""
    import importlib.resources
    import io

    import numpy as np
    from PIL import Image

    source = importlib.resources.files("skimage") / "data" / "astronaut.png"
    with source.open("rb") as handle:
        picture = Image.open(handle).convert("RGB").resize(SIZE, Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    pixels = np.asarray(picture, dtype=np.int16)
    luma_noise = rng.normal(0, 7, size=(SIZE[1], SIZE[0], 1)).astype(np.int16)
    chroma_noise = rng.normal(0, 3, size=pixels.shape).astype(np.int16)
    photo = Image.fromarray(np.clip(pixels + luma_noise + chroma_noise, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Papercrane"
    exif[0x0110] = "Bench Phone 12 Pro"
    exif[0x0132] = "2026:04:01 09:30:00"
    exif[0x8825] = {1: "N", 2: (31.0, 13.0, 49.44), 3: "E", 4: (121.0, 28.0, 25.32)}
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def _built_elsewhere(orientation: int) -> bytes:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(build_photo, orientation).result()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time(function: Any, data: bytes, runs: int) -> tuple[list[float], list[float], Any]:
    cpu, wall, result = [], [], None
    for _ in range(runs):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        result = function(data)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started_wall) * 1000)
    return cpu, wall, result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench media")
    parser.add_argument("--photos", type=int, default=15, help="timed runs")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--orientation", type=int, default=6, choices=range(1, 9))
    args = parser.parse_args(argv)

    data = _built_elsewhere(args.orientation)
    if hasattr(os, "sched_setaffinity"):  # one core for real: wall time then means one core too
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import pyvips

    from papercrane.media import processing

    pyvips.concurrency_set(1)
    _time(processing.clean_original, data, args.warmup)
    clean_cpu, clean_wall, clean = _time(processing.clean_original, data, args.photos)
    _time(processing.derive, clean.data, args.warmup)
    derive_cpu, derive_wall, derived = _time(processing.derive, clean.data, args.photos)
    cpu = [a + b for a, b in zip(clean_cpu, derive_cpu, strict=True)]
    wall = [a + b for a, b in zip(clean_wall, derive_wall, strict=True)]
    result = {
        "benchmark": "media",
        "megapixels": round(SIZE[0] * SIZE[1] / 1e6, 1),
        "photos": args.photos,
        "p50_ms": round(statistics.median(cpu), 1),
        "p99_ms": round(_percentile(cpu, 0.99), 1),
        "wall_p50_ms": round(statistics.median(wall), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "variants": [variant.width for variant in derived.variants],
        "library": "pyvips",
        "orientation": args.orientation,
        "input_kb": len(data) // 1024,
        "clean_kb": len(clean.data) // 1024,
        "variant_kb": [len(variant.data) // 1024 for variant in derived.variants],
        "clean_p50_ms": round(statistics.median(clean_cpu), 1),
        "derive_p50_ms": round(statistics.median(derive_cpu), 1),
    }
    print(json.dumps(result))
    return 0

"""The demo's photos from the field: a small synthetic JPEG of a resolved case (pure)."""
from __future__ import annotations

import base64
import time

import cv2
import numpy as np

PHOTO_P = 0.2  # share of resolved cases the simulated officer photographs
SIZE = (480, 640)  # rows, columns: a phone photo scaled down


def scene_photo(rng: np.random.Generator, category: str, ts: float) -> str:
    """A believable-looking scene (sky, street, a block) stamped with the case's category."""
    h, w = SIZE
    img = np.empty((h, w, 3), np.uint8)
    sky = np.linspace(230, 150, h // 2, dtype=np.float32)[:, None]
    img[: h // 2] = np.stack([sky + 20, sky, sky - 40], axis=-1).astype(np.uint8)
    img[h // 2:] = (90, 95, 100)
    x, bw = int(rng.integers(40, w - 240)), int(rng.integers(120, 220))
    colour = tuple(int(c) for c in rng.integers(60, 200, 3))
    cv2.rectangle(img, (x, h // 4), (x + bw, h * 3 // 4), colour, -1)
    noise = rng.normal(0, 6, img.shape).astype(np.int16)
    img = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    stamp = f"{category} {time.strftime('%Y-%m-%d %H:%M', time.localtime(ts))}"
    cv2.putText(img, stamp, (12, h - 16), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    ok, jpg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise RuntimeError("OpenCV could not encode the demo photo")
    return base64.b64encode(jpg.tobytes()).decode()

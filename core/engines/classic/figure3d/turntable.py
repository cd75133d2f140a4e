"""The turntable: the figure turning once on its base in front of a soft studio backdrop, as a looping H.264 MP4
(PyAV: FFmpeg's libx264 inside the wheel; yuv420p, no sound, the index up front for streaming) or a looping GIF."""

from __future__ import annotations

import io
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from minime.core.engines.classic.figure3d.render import (
    LIGHTS,
    Camera,
    bake_occlusion,
    camera_for,
    on_backdrop,
    render_rgba,
    scene_of,
)

BACKDROPS = (((0.93, 0.93, 0.95), (0.72, 0.74, 0.8)), ((0.96, 0.93, 0.88), (0.78, 0.72, 0.66)),
             ((0.9, 0.94, 0.96), (0.6, 0.7, 0.78)))


def backdrop(size: int, variation: int = 0) -> np.ndarray:
    """A studio sweep: light at the top and middle, darker at the floor and in the corners (sRGB float)."""
    top, bottom = (np.float32(c) for c in BACKDROPS[variation % len(BACKDROPS)])
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    t = np.clip((y - 0.35) / 0.65, 0, 1) ** 1.5
    img = top * (1 - t[..., None]) + bottom * t[..., None]
    glow = np.exp(-((x - 0.5) ** 2 + (y - 0.45) ** 2) / 0.18)
    return (img * (0.86 + 0.14 * glow[..., None])).astype(np.float32)


def frames(model, size: int = 512, count: int = 48, elevation_deg: float = 8.0) -> list[np.ndarray]:
    """One turn of the figure, ``count`` RGB frames (the last one a step before the first: the loop is seamless)."""
    scene = scene_of(model)
    bake_occlusion(scene)  # every side is seen in one turn: all at once, not a sliver per frame
    lights = LIGHTS[model.options.variation % len(LIGHTS)]
    yaws = [360.0 * i / count for i in range(count)]
    cams = camera_for(scene, (size, size), yaws[:: max(1, count // 12)], elevation_deg)
    back = backdrop(size, model.options.variation)
    out = []
    for yaw in yaws:
        cam = _turned(cams[0], yaw)
        color, (alpha, shadow) = render_rgba(scene, cam, lights)
        out.append(on_backdrop(color, alpha, shadow, back))
    return out


def _turned(cam: Camera, yaw: float) -> Camera:
    """The fitted camera moved round the figure's axis by ``yaw`` degrees (same distance, height and framing)."""
    a = np.radians(yaw)
    rot = np.float32([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    return Camera((rot @ cam.eye).astype(np.float32), (rot @ cam.right).astype(np.float32),
                  (rot @ cam.up).astype(np.float32), (rot @ cam.forward).astype(np.float32), cam.focal, cam.center,
                  cam.size)


def turntable(model, fmt: str = "mp4", *, size: int = 512, frames: int = 48, seconds: float = 4.0) -> bytes:
    """A looping turn of the figure on its base: ``mp4`` (H.264, yuv420p, faststart, no sound) or ``gif``."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("mp4", "gif"):
        raise ValueError(f"unknown turntable format {fmt!r}; mp4 or gif")
    size = max(16, size // 2 * 2)
    count = frames
    pictures = _frames(model, size, count)
    if fmt == "gif":
        images = [Image.fromarray(p).quantize(colors=255, method=Image.Quantize.FASTOCTREE) for p in pictures]
        buf = io.BytesIO()
        images[0].save(buf, "GIF", save_all=True, append_images=images[1:], loop=0,
                       duration=round(1000 * seconds / count), optimize=False)
        return buf.getvalue()
    # faststart rewrites the file to move the index to the front, which needs a real file.
    with tempfile.TemporaryDirectory(prefix="minime-turntable-") as folder:
        path = Path(folder) / "turntable.mp4"
        _encode_mp4(pictures, path, Fraction(count).limit_denominator(1000) / Fraction(seconds).limit_denominator(1000))
        return path.read_bytes()


def _encode_mp4(pictures: list[np.ndarray], path: Path, rate: Fraction) -> None:
    size = pictures[0].shape[0]
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "medium"}
        for picture in pictures:
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


_frames = frames

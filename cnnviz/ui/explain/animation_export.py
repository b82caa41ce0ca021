"""Exports for slides: the current view as a PNG, a step view's animation as an animated GIF.

Frames are the view itself rendered offscreen at each step (`widget.grab()`), so the GIF looks
exactly like the screen. One palette, made from the first and last frames (the last has the
whole output map filled in), serves every frame, so colours do not flicker between frames.
Files are written beside their target and renamed over it, so a failed export never leaves a
half-written file; a folder or file that cannot be written raises CnnvizError.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from cnnviz.core.errors import CnnvizError

UNCHANGED = 255     # palette index of "same as the previous frame" (transparent)
MIN_FRAME_MS = 20   # browsers and slide software play faster GIF frames at 10 per second


def qimage_to_pil(image: QImage):
    """A Pillow RGB image with the pixels of a QImage."""
    from PIL import Image

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    buffer = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * height)
    pixels = buffer.reshape(height, image.bytesPerLine())[:, :width * 3].reshape(height, width, 3)
    return Image.fromarray(pixels.copy(), "RGB")


def grab_image(widget: QWidget):
    """The widget as it looks now (children included), as a Pillow RGB image."""
    return qimage_to_pil(widget.grab().toImage())


def _check_writable(path: Path) -> Path:
    """The folder to write in; CnnvizError when it or the file cannot be written.

    Permission bits are checked by hand because an administrator account ignores them, and a
    teacher who made a folder read-only means it."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CnnvizError(f"Cannot save {path.name}: the folder {folder} does not exist.")
    if not folder.stat().st_mode & stat.S_IWUSR or not os.access(folder, os.W_OK):
        raise CnnvizError(f"Cannot save {path.name}: the folder {folder} is read-only. "
                          "Choose another folder.")
    if path.exists() and (not path.stat().st_mode & stat.S_IWUSR or path.is_dir()):
        raise CnnvizError(f"Cannot save: {path} is read-only. Choose another name or folder.")
    return folder


def _write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """Run write(temporary_path) beside `path`, then rename the result over `path`."""
    path = Path(path)
    folder = _check_writable(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.close(handle)
    except OSError as exc:
        raise CnnvizError(f"Cannot save {path.name} in {folder}: {exc.strerror or exc}.") from None
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        raise CnnvizError(f"Cannot save {path}: {exc.strerror or exc}.") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def save_view_png(widget: QWidget, path: str | os.PathLike[str]) -> None:
    """Save the widget as it looks now as a PNG file. Raises CnnvizError when it cannot."""
    image = grab_image(widget)
    _write_atomically(path, lambda temporary: image.save(temporary, format="PNG", optimize=True))


def animation_steps(first_step: int, last_step: int, max_frames: int) -> list[int]:
    """The steps to render: all of first..last, or max_frames of them spread evenly, always
    including the first and the last."""
    if last_step < first_step:
        raise CnnvizError(f"The animation's last step ({last_step + 1}) comes before its "
                          f"first ({first_step + 1}).")
    count = last_step - first_step + 1
    if count <= max_frames:
        return list(range(first_step, last_step + 1))
    if max_frames < 2:
        return [last_step]
    spread = np.linspace(first_step, last_step, max_frames)
    return sorted({int(round(step)) for step in spread} | {first_step, last_step})


def save_animation_gif(view, path: str | os.PathLike[str], first_step: int = 0,
                       last_step: int | None = None, steps_per_second: float = 10,
                       max_frames: int = 400,
                       progress: Callable[[int, int], object] | None = None) -> int:
    """Save a step view's playback from first_step to last_step (default: the last) as an
    animated GIF that loops forever, one frame per step at `steps_per_second`.

    When there are more steps than max_frames, max_frames of them are taken evenly (the last
    step always among them). `progress(done, total)` is called after each frame; raising from
    it (say a CnnvizError when the user cancels) stops the export and leaves no file behind.
    The view is put back on the step it showed. Returns the number of frames written.
    Raises CnnvizError when the view has nothing to show or the file cannot be written.
    """
    count = view.step_count()
    if count <= 0:
        raise CnnvizError("There is no animation to save: choose a convolution or pooling "
                          "layer first.")
    last_step = count - 1 if last_step is None else min(int(last_step), count - 1)
    steps = animation_steps(max(0, int(first_step)), last_step, max(1, int(max_frames)))
    _check_writable(Path(path))
    duration = max(MIN_FRAME_MS, round(1000 / max(0.1, float(steps_per_second))))
    shown = view.step()
    try:
        palette = _shared_palette(view, steps)
        frames = _frames(view, steps, palette, progress)
        first = next(frames)

        def write(temporary: str) -> None:
            first.save(temporary, format="GIF", save_all=True, append_images=frames,
                       duration=duration, loop=0, disposal=1, optimize=False,
                       transparency=UNCHANGED)

        _write_atomically(path, write)
    finally:
        view.set_step(shown)
    return len(steps)


def _shared_palette(view, steps: list[int]):
    """A 255-colour palette from the first and the last frame side by side (index 255 is kept
    free: it marks the pixels a frame leaves as they were)."""
    from PIL import Image

    view.set_step(steps[0])
    first = grab_image(view)
    view.set_step(steps[-1])
    last = grab_image(view)
    both = Image.new("RGB", (first.width + last.width, max(first.height, last.height)), "white")
    both.paste(first, (0, 0))
    both.paste(last, (first.width, 0))
    palette = both.quantize(colors=UNCHANGED, method=Image.Quantize.MEDIANCUT)
    colours = palette.getpalette()[:3 * UNCHANGED]
    palette.putpalette(colours + [0] * (768 - len(colours)))
    return palette


def _frames(view, steps: list[int], palette, progress) -> Iterator:
    """Each step rendered and mapped onto the shared palette (no dithering: flat cells stay
    flat). After the first frame, pixels equal to the previous frame's become the transparent
    index, so each frame stores only what moved: a step changes a few small areas."""
    from PIL import Image

    previous = None
    for done, step in enumerate(steps, start=1):
        view.set_step(step)
        indices = np.asarray(grab_image(view).quantize(palette=palette, dither=Image.Dither.NONE))
        frame = indices.copy()
        if previous is not None and previous.shape == indices.shape:
            frame[indices == previous] = UNCHANGED
        previous = indices
        image = Image.fromarray(frame, "P")
        image.putpalette(palette.getpalette())
        image.info["transparency"] = UNCHANGED
        yield image
        if progress is not None:
            progress(done, len(steps))

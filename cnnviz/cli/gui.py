"""`cnnviz [FILE]`: open the app, optionally with a spec or a saved model. The ui (and so Qt)
is imported only here, inside the function."""

from __future__ import annotations

from cnnviz.cli.common import (
    MODEL_SUFFIXES, SPEC_SUFFIXES, CliError, existing_file, is_architecture_json, load_spec_file,
)


def cmd_gui(path_text: str | None, presentation: bool = False) -> int:
    """Open the app, optionally with a spec loaded, and in presentation mode if asked. A bad
    file is reported before Qt starts."""
    if path_text is not None:
        path = existing_file(path_text)
        suffix = path.suffix.lower()
        if suffix in MODEL_SUFFIXES:
            pass  # a saved model opens in the app's Inspect view, which reports a bad file
        elif suffix in SPEC_SUFFIXES and is_architecture_json(path):
            pass  # model.to_json() output: opened as a model, not as a spec
        else:
            load_spec_file(path_text)  # checks the file now: a clear message, not a dialog
        path_text = str(path)
    try:
        from cnnviz.ui.app import run_app
    except ImportError as exc:
        raise CliError(f"Cannot start the app: {exc}. Reinstall with: pip install -e .") from None
    return int(run_app(path_text, presentation=presentation) or 0)

"""Write every preset as a JSON spec beside this script: sample_models/<key>.json.

Run from anywhere: `python sample_models/make_specs.py`. Re-run it after changing a preset,
then commit the JSON files (tests check they still equal the presets).
"""

from __future__ import annotations

from pathlib import Path

from cnnviz.core.model.presets import PRESETS
from cnnviz.core.model.spec import save_spec


def main() -> None:
    folder = Path(__file__).resolve().parent
    for key, preset in PRESETS.items():
        path = folder / f"{key}.json"
        save_spec(preset.factory(), path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

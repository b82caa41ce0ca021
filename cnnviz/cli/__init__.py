"""The command line: the GUI by default, plus one module per command.

    cnnviz                     open the app (gui.py)
    cnnviz FILE.json           open the app with that model spec loaded
    cnnviz summary FILE        a Keras-style summary of a spec (.json) or saved model (summary.py)
    cnnviz export-code SPEC    a runnable Keras script for a spec (export_code.py)
    cnnviz train SPEC --data SOURCE --epochs N --out MODEL.keras   train and save (train.py)
    cnnviz explain MODEL --data SOURCE --out DIR     the explainer's pictures (explain.py,
                                                     explain_pictures.py) or one step as JSON
    cnnviz evaluate MODEL --data SOURCE   accuracy, per-class scores, confusion matrix (evaluate.py)
    cnnviz runs [show|compare|export|delete]   the recorded training runs (runs.py)
    cnnviz sweep SPEC ... --data SOURCE --epochs N --param NAME=V1,V2 --grid   a hyperparameter
                                                     search on Optuna (sweep.py)
    cnnviz transfer BASE --data SOURCE --epochs N --out M.keras   transfer learning (transfer.py)
    cnnviz dense-vs-cnn [--epochs N] [--sizes ...]   the tutorial's dense net and CNN trained
                                                     on less and less data (dense_vs_cnn.py)
    cnnviz scratch-vs-transfer [BASE] [--limit 600]  one network trained from scratch and on a
                                                     frozen pretrained base (scratch_vs_transfer.py)
    cnnviz attribution MODEL --data SOURCE --method gradcam|saliency (--out DIR | --json)
                                                     where the network looks (attribution.py)
    cnnviz features MODEL --data SOURCE --layer NAME --out DIR   a layer's features (.npz),
                                                     their 2-D map (CSV, PNG) (features.py)
    cnnviz cache [clear [features|bases|all]]   the disk the caches use, and freeing it
                                                     (cache.py)

front_door.py parses the arguments and turns every problem a user can cause (a missing file,
bad JSON, a kernel larger than its input) into one line "cnnviz: <message>" on stderr with exit
code 2, never a traceback (an unexpected error is one line too, exit code 1, naming the log
file that holds its traceback); common.py holds what the commands share. `summary` of a spec is pure
arithmetic and never imports TensorFlow; only the GUI and `explain --out` import Qt.
"""

__all__ = [
    "main", "common", "front_door", "gui", "summary", "export_code", "train", "explain",
    "explain_pictures", "evaluate", "runs", "sweep", "transfer", "dense_vs_cnn",
    "scratch_vs_transfer", "attribution", "features", "cache",
]


def main(argv: list[str] | None = None) -> int:
    """The `cnnviz` console script and `python -m cnnviz`: run the command line, return the
    exit code. The front door is imported here, so importing this package stays instant."""
    from cnnviz.cli.front_door import run_command_line

    return run_command_line(argv)

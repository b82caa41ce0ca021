"""The builder's "Pre-built base…" dialog: choose a network (Keras's five pre-built image
networks or a model file), its weights (ImageNet, with where the file is and whether it must
be downloaded, or random), the input size and the layer to cut at; Prepare makes the base in
the background (download bytes, then "Preparing…", with Cancel) and `prepared(LayerSpec)`
hands the frozen PretrainedBase layer to the builder, which inserts it as one undoable edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
    QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.model.spec import LayerSpec
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.pretrained_bases import (
    APPLICATION_PARAMETERS, BaseChoice, breakable, error_text, network_title, prepare_work,
    show_download_progress, weights_status,
)
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.common.zoom import scaled

MODEL_FILE_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
DEFAULT_CUT = "The network's default"


class BaseDialog(QDialog):
    """Choose and prepare a pre-built base for images of `channels` channels.

    initial: a BaseChoice to start from (Change base…); fetch: the core's download hook
    (tests pass an offline one; None: Keras's download). `prepared(LayerSpec)` once ready;
    the dialog then closes itself (accept)."""

    prepared = Signal(object)

    def __init__(self, channels: int, initial: BaseChoice | None = None,
                 fetch: Callable[..., Any] | None = None, parent: QWidget | None = None,
                 title: str = "Pre-built base") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.channels = channels
        self._fetch = fetch
        self._prepare = NewestRequest(self)
        self._prepare.busy_changed.connect(self._busy)
        self._layers = NewestRequest(self)
        self._listed_for: str | None = None
        self.layer: LayerSpec | None = None

        from cnnviz.core.transfer.bases import APPLICATIONS

        self.networks = QListWidget()
        self.networks.setAccessibleName("Network")
        for app in APPLICATIONS.values():
            item = QListWidgetItem(f"{app.title} · {APPLICATION_PARAMETERS[app.name] / 1e6:.1f} M "
                                   f"parameters")
            item.setData(Qt.ItemDataRole.UserRole, app.name)
            self.networks.addItem(item)
        self.file_button = QPushButton("A model file…")
        self.file_button.setToolTip("Use a saved model (.keras, .h5) as the base, with the "
                                    "weights it learnt")
        self.file_button.clicked.connect(self.choose_file)

        self.weights = QComboBox()
        self.weights.addItem("ImageNet (learnt from 1.2 million photos)", "imagenet")
        self.weights.addItem("Random (nothing learnt yet: for exploring offline)", "random")
        self.size = QSpinBox()
        self.size.setRange(32, 512)
        self.size.setSuffix(" px")
        self.size.setToolTip("Images are resized to this square size before the network; "
                             "smaller is faster (MobileNetV2 has ImageNet weights for 96 to "
                             "224)")
        self.cut = QComboBox()
        self.cut.setToolTip("The base layer whose output your head reads; the layers after "
                            "it are left out")
        self.cut.setMinimumContentsLength(16)
        self.cut.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.cut.view().setTextElideMode(Qt.TextElideMode.ElideNone)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Weights", self.weights)
        form.addRow("Input size", self.size)
        form.addRow("Cut at layer", self.cut)

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
        self.random_button = QPushButton("Use random weights")
        self.random_button.setToolTip("The same network with random weights: it works "
                                      "offline, but has learnt nothing yet")
        self.random_button.clicked.connect(self.use_random_weights)
        self.random_button.hide()

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.stage = QLabel()
        self.stage.hide()
        self.prepare_button = QPushButton("Prepare")
        self.prepare_button.setDefault(True)
        self.prepare_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.random_button)
        buttons.addStretch(1)
        buttons.addWidget(self.prepare_button)
        buttons.addWidget(self.cancel_button)

        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Network</b>"))
        left.addWidget(self.networks)
        left.addWidget(self.file_button, 0, Qt.AlignmentFlag.AlignLeft)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.details)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 2)
        columns.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.stage)
        layout.addWidget(self.progress)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self.networks.setMinimumHeight(self.networks.sizeHintForRow(0) * 6
                                       + 2 * self.networks.frameWidth())
        self.resize(scaled(720), self.minimumSizeHint().height() + scaled(40))

        self.networks.currentItemChanged.connect(lambda *_: self._network_changed())
        self.weights.currentIndexChanged.connect(lambda _i: self._describe())
        self.size.valueChanged.connect(lambda _v: self._describe())
        self._set_initial(initial)

    # ------------------------------------------------------------------ the choice

    def _set_initial(self, initial: BaseChoice | None) -> None:
        from cnnviz.core.transfer.base_blocks import DEFAULT_INPUT_SIZE

        self._wanted_cut = initial.cut if initial else None
        self.size.setValue(initial.size if initial else DEFAULT_INPUT_SIZE[0])
        if initial is not None and initial.weights in ("imagenet", "random"):
            self.weights.setCurrentIndex(self.weights.findData(initial.weights))
        if initial is None:
            self.networks.setCurrentRow(0)
        else:
            self.select(initial.source)

    def select(self, source: str) -> None:
        """Select an application by name, or a model file by path (added when new)."""
        for row in range(self.networks.count()):
            data = self.networks.item(row).data(Qt.ItemDataRole.UserRole)
            if data == source or (not self._is_application(data)
                                  and Path(data) == Path(source)):
                self.networks.setCurrentRow(row)
                return
        self._add_file(source)

    def _add_file(self, path: str) -> None:
        item = QListWidgetItem(f"Model file: {Path(path).name}")
        item.setData(Qt.ItemDataRole.UserRole, str(path))
        item.setToolTip(str(path))
        self.networks.addItem(item)
        self.networks.setCurrentItem(item)

    @staticmethod
    def _is_application(source: str) -> bool:
        from cnnviz.core.transfer.bases import is_application_name

        return is_application_name(source)

    def source(self) -> str:
        item = self.networks.currentItem()
        return "" if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def choice(self) -> BaseChoice:
        """What Prepare would make."""
        cut = self.cut.currentData()
        return BaseChoice(self.source(), str(self.weights.currentData()), self.size.value(),
                          str(cut) if cut else None)

    def choose_file(self) -> None:
        path = dialogs.get_open_path(self, "A model as the base", str(Path.home()),
                                     MODEL_FILE_FILTER)
        if path:
            self.select(path)

    def _network_changed(self) -> None:
        source = self.source()
        application = self._is_application(source)
        self.weights.setEnabled(application)
        self.size.setEnabled(application)
        self.problem.hide()
        self.random_button.hide()
        self._list_layers(source)
        self._describe()

    def _describe(self) -> None:
        source = self.source()
        if not source:
            return
        if not self._is_application(source):
            self.details.setText(f"<b>{html_name(source)}</b>: a saved model, with the "
                                 f"weights it learnt; it takes its own input size.<br>"
                                 f"{breakable(source)}")
            self.prepare_button.setText("Prepare")
            return
        title, size = network_title(source), self.size.value()
        text = (f"<b>{title}</b> at {size}×{size}, "
                f"{APPLICATION_PARAMETERS[source]:,} parameters without its ImageNet "
                f"classifier. Your {'grey' if self.channels == 1 else 'colour'} images are "
                f"resized and preprocessed as it expects; it is added frozen.")
        needs_download = False
        if self.weights.currentData() == "imagenet":
            try:
                cached, status = weights_status(source, size)
            except CnnvizError as exc:
                cached, status = True, str(exc)
            needs_download = not cached
            text += f"<br>{breakable(status)}"
        self.details.setText(text)
        self.prepare_button.setText("Download and prepare" if needs_download else "Prepare")

    def _list_layers(self, source: str) -> None:
        """Fill the cut list with the network's layers, in the background (the network is
        built with random weights just to read its layer names)."""
        if source == self._listed_for:
            return
        self._listed_for = source
        self.cut.clear()
        self.cut.addItem(DEFAULT_CUT, None)
        self.cut.setEnabled(False)
        application = self._is_application(source)

        def work(_report: Callable[[str, int, int], None]) -> tuple[list[str], str]:
            from cnnviz.core.transfer.bases import open_base
            from cnnviz.core.transfer.transfer_model import default_cut_layer

            base = (open_base(source, weights="random", input_shape=(96, 96)) if application
                    else open_base(source))
            return [layer.name for layer in base.model.layers[1:]], default_cut_layer(base)

        self._layers.submit(work, self._layers_listed, lambda _m, _d: self.cut.setEnabled(True))

    def _layers_listed(self, result: tuple[list[str], str]) -> None:
        names, default = result
        self.cut.clear()
        for name in names:
            self.cut.addItem(f"{name} (default)" if name == default else name, name)
        wanted = self._wanted_cut if self._wanted_cut in names else default
        self._wanted_cut = None
        self.cut.setCurrentIndex(max(0, self.cut.findData(wanted)))
        self.cut.setEnabled(True)

    # ------------------------------------------------------------------ preparing

    @property
    def busy(self) -> bool:
        return self._prepare.busy

    def start(self) -> None:
        """Prepare the chosen base in the background."""
        choice = self.choice()
        if not choice.source:
            return
        self.problem.hide()
        self.random_button.hide()
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self.stage.setText(f"Preparing {network_title(choice.source)}…")
        self._prepare.submit(prepare_work(choice, self.channels, self._fetch), self._done,
                             self._failed, self._progress)

    def use_random_weights(self) -> None:
        self.weights.setCurrentIndex(self.weights.findData("random"))
        self.start()

    def cancel(self) -> None:
        """Stop preparing (the dialog stays open), or close the dialog when idle."""
        if self._prepare.busy:
            self._prepare.supersede()
            self.stage.setText("Cancelled.")
            self.stage.show()
        else:
            self.reject()

    def reject(self) -> None:
        self._prepare.supersede()
        self._layers.supersede()
        super().reject()

    def shutdown(self) -> None:
        """Cancel background work and wait for its threads."""
        self._prepare.shutdown()
        self._layers.shutdown()

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.stage.setVisible(busy or self.stage.text() == "Cancelled.")
        for widget in (self.prepare_button, self.networks, self.file_button, self.weights,
                       self.size, self.cut):
            widget.setEnabled(not busy)
        if not busy:
            self._network_changed_enable()

    def _network_changed_enable(self) -> None:
        application = self._is_application(self.source())
        self.weights.setEnabled(application)
        self.size.setEnabled(application)

    def _progress(self, stage: str, done: int, total: int) -> None:
        show_download_progress(self.progress, done, total)
        self.stage.setText(stage)

    def _done(self, layer: LayerSpec) -> None:
        self.layer = layer
        self.stage.setText("Ready.")
        self.prepared.emit(layer)
        self.accept()

    def _failed(self, message: str, _details: str) -> None:
        self.problem.setText(error_text(breakable(message)))
        self.problem.show()
        self.stage.hide()
        offline = (self.weights.currentData() == "imagenet"
                   and self._is_application(self.source()))
        self.random_button.setVisible(offline)


def html_name(path: str) -> str:
    import html

    return html.escape(Path(path).name)

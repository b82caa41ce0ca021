"""Data: one `Dataset` for every source (Keras downloads, IDX/npz/CIFAR files, image folders,
time series, bundled samples) and the one image the explainer looks at.

    datasets         load_dataset(source, options): picks a reader, applies the shared options
    dataset_types    LoadOptions in, Dataset and LoadReport out
    data_splits      one split (train, validation, test), in memory or streamed from disk
    series_split     a split of signals (time series), float32 (N, steps, channels)
    series_formats   parsers for .ts, .tsv, .arff and series CSV files
    time_series      UCR/UEA folders, series files and .npz arrays made into a dataset
    dataset_files    readers for mnist.npz, IDX and CIFAR-10 files
    image_folders    class-per-subfolder image folders
    image_decoding   reading one image file with Pillow
    keras_downloads  MNIST, Fashion-MNIST and CIFAR-10 from Keras's download cache
    bundled_samples  the offline samples shipped inside the package
    safe_unpickle    CIFAR batches without running code from the file
    data_fit         which data fits a model, and adapting images that do not
    input_images     the explainer's input: a dataset example, a drawing or an image file
    split_choice     which split evaluate and explain measure, and how output names it
"""

__all__ = [
    "datasets", "dataset_types", "data_splits", "dataset_files", "image_folders",
    "image_decoding", "keras_downloads", "bundled_samples", "safe_unpickle", "data_fit",
    "input_images", "split_choice", "series_split", "series_formats", "time_series",
]

"""Files shipped with cnnviz: the offline sample datasets in samples/ (see samples/CREDITS.md)."""

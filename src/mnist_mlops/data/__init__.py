"""Data: acquire the raw digits (download, embedded, local IDX), preprocess them, report on them."""

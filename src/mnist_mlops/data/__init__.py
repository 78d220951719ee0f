"""Data acquisition (download), validation and preprocessing."""

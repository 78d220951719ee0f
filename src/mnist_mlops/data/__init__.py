"""Data: acquire the raw digits (download, embedded, local IDX) and preprocess them.

* :mod:`.sources` - the known datasets (URLs, checksums); :mod:`.fetch` - verified downloads;
* :mod:`.download` - the download stage; :mod:`.idx` / :mod:`.raw` - reading raw files;
* :mod:`.preprocess` - seeded stratified splits; :mod:`.report` - the dataset report.
"""

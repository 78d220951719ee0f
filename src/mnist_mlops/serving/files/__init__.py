"""``mnist-mlops predict``: digits read from files (:mod:`.reading`), scored (:mod:`.scoring`)."""

"""The HTTP server of ``mnist-mlops serve``: MLflow's scoring app behind a guard.

:mod:`.app` the guard and its routes, :mod:`.protocol` the connection-level deadlines,
:mod:`.json_requests` and :mod:`.image_requests` the request bodies, :mod:`.page` the
draw-a-digit page (its files in ``static/``).
"""

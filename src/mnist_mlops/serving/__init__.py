"""Serving: the model runtime, pictures to MNIST form, ``serve`` (http), ``predict`` (files)."""

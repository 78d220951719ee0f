"""Served predictions and the labels users give them: the store the feedback loop reads."""

"""A picture of one handwritten digit to MNIST's 28x28 form (entry point: :mod:`.images`)."""

def my_merge(layer):
    # W' = W + (alpha / r) · B A: one (out × in) matrix, so the merged layer is a plain nn.Linear.
    return layer.base.weight + layer.scale * layer.B @ layer.A


check_merge(my_merge)

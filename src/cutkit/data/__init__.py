"""Datasets for training and evaluation: image/mask pairs, tar shards, splits, checks and transforms.

Modules are imported on use (``cutkit.data.pairs``, ``cutkit.data.salient``, ``cutkit.data.shards``,
``cutkit.data.check``): this package imports nothing, so ``import cutkit`` stays light.
"""

"""Evaluation metrics: salient-object segmentation (``cutkit.metrics.salient``), matting (``.matting``)."""

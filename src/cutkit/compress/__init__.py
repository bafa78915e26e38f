"""Making a trained network smaller and faster: pruning (unstructured and by channel) and int8 quantization.

* :mod:`.magnitude` zeroes the smallest weights (torch.nn.utils.prune); the shapes stay, the file compresses.
* :mod:`.channel` removes whole channels with their dependants (Torch-Pruning's dependency graph): the
  network really is narrower, smaller and faster.
* :mod:`.reshape` rebuilds a channel-pruned network from its architecture and its weights.
* :mod:`.quantize` exports a classifier to ONNX and quantizes it to int8 for ONNX Runtime.
* :mod:`.finetune` recovers the accuracy pruning costs on the shared trainer.

Knowledge distillation is a training option (``cutkit train classify --teacher RUN``, see
:mod:`cutkit.train.classify_loss`).
"""

PRUNE_METHODS = ("magnitude", "channel")  # the names ``cutkit prune --method`` takes

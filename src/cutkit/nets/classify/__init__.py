"""Image classifiers (one file per family) and the classifier contract; see :mod:`._base`.

``simple-cnn`` (MNIST-sized), ``resnet18``/``resnet34``/``resnet50`` (ImageNet or CIFAR stem) and
``mobilenet-cls``. Each is built with ``build_net(name, num_classes=..., in_channels=..., ...)``, and each
name is also a backbone name, so ``build_net("cutnet", backbone="resnet18")`` segments with its features.
"""

from cutkit.nets.classify._base import Classifier, classifier_names, register_classifier

__all__ = ["Classifier", "classifier_names", "register_classifier"]

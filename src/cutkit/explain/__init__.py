"""Why a classifier decided: class-activation heatmaps (Grad-CAM, Grad-CAM++) and gradient saliency.

Every method takes a network that returns ``(N, classes)`` logits and a normalised ``NCHW`` batch, and returns
one heatmap per image in ``[0, 1]`` at the input's size; :func:`~cutkit.explain.overlay.overlay` draws it on
the image. Grad-CAM reads the activations of the classifier's ``gradcam_layer`` (see
:mod:`cutkit.nets.classify`), or any module passed as ``layer``.

Hand-written rather than taken from ``pytorch-grad-cam`` (it needs torchvision, which does not load here) or
Captum (no Grad-CAM++); each method is a few lines on top of PyTorch's hooks.
"""

from cutkit.explain.cam import grad_cam, grad_cam_plus_plus
from cutkit.explain.methods import METHODS, Explanation, explain
from cutkit.explain.overlay import overlay
from cutkit.explain.saliency import saliency

__all__ = ["METHODS", "Explanation", "explain", "grad_cam", "grad_cam_plus_plus", "overlay", "saliency"]

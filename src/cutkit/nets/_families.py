"""The explicit list of network families; adding a family adds one line here."""

from cutkit.nets import cutnet, extremec3, isnet, mobilenet, sinet, u2net  # noqa: F401
from cutkit.nets.classify import mobilenet_cls, resnet, simple_cnn  # noqa: F401

"""The explicit list of network families; adding a family adds one line here."""

from cutkit.nets import cutnet, extremec3, isnet, mobilenet, sinet, u2net  # noqa: F401

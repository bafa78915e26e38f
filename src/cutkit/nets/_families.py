"""The explicit list of network families; adding a family adds one line here."""

from cutkit.nets import extremec3, isnet, sinet, u2net  # noqa: F401

"""The model zoo: named models as data, and their weight files."""

from cutkit.zoo.registry import default_model, get_spec, list_specs
from cutkit.zoo.spec import ModelSpec, WeightsFile

__all__ = ["ModelSpec", "WeightsFile", "default_model", "get_spec", "list_specs"]

"""Network architectures in plain PyTorch, one file per family."""

from cutkit.nets._registry import arch_defaults, arch_names, build_net, register_net

__all__ = ["arch_defaults", "arch_names", "build_net", "register_net"]

"""Training: the trainer, tasks, losses and checkpoints (imported only when training)."""

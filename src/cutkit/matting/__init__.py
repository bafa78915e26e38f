"""Alpha matting: trimaps, solvers that refine soft edges, and foreground colour estimation."""

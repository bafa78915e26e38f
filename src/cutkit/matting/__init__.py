"""Alpha matting: trimaps and solvers that refine soft edges."""

"""Removal as small steps: preprocess → predict → postprocess → compose."""

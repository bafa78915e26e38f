"""cutkit.cli"""

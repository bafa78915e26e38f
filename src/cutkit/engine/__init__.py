"""cutkit.engine"""

"""cutkit.io"""

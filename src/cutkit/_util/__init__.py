"""Small internal helpers shared by several layers."""

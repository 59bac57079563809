"""One module per layer of the decision tree (navigator.md sections 3-7)."""

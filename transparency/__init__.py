"""The transparency log: every change of what a handle answers, in a public Merkle log."""

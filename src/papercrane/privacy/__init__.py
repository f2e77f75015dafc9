"""Privacy and data rights: the data inventory, "Your data", export, erasure, retention."""

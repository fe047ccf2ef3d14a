"""Phone numbers: proof of ownership, retirement, forwarding, purge and discovery."""

"""Services: use cases written against the ports only."""

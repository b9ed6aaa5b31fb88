"""Pure decisions: no I/O, no clocks, no randomness — inputs in, values out."""

// Executable under construction.

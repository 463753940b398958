"""The `crypto401k` command line: one module per group of commands, registered in `cli.main`."""

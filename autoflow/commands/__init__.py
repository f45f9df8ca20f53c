"""One module per CLI command; ``autoflow/cli.py`` registers them."""

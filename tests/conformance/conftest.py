# The suite's data files (test513.txt, ...) are not doctests.
collect_ignore_glob = ["txml/*", "generated/*"]

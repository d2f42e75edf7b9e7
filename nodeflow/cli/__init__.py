"""The ``nodeflow`` command line: the parser, the commands and the terminal's progress view."""

"""The editor's server: its page, JSON routes and the tools it offers on a graph."""

"""Planning: from the requested outputs back to the nodes a run needs, with sweeps expanded."""

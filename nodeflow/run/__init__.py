"""Running a plan: the executor, the scheduler loop, result stores, keys and reasons, batches, resources."""

"""What stays after a run: the history, the job queue, the audit, reproduction."""

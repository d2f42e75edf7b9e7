"""Image, sound and video file helpers that the packs and delivery share (reached through the public API)."""

"""Port types: names, colours, compatibility, and the types packs share (data, media, models, code)."""

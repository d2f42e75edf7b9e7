"""``nodeflow app``: a graph as a Gradio form."""

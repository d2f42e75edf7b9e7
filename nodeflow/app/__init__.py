"""The browser editor: a Gradio page with a React Flow canvas, mounted in nodeflow's FastAPI app.

``serve`` is what ``nodeflow ui`` runs; ``build_app`` gives the app for tests and embedding.
"""

from nodeflow.app.editor.server import BundleMissing, build_app, serve

__all__ = ["serve", "build_app", "BundleMissing"]

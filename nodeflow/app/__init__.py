"""The HTTP surface: the editor (``editor/``: its page, JSON and event routes), ``serve``'s /v1 API
(``serve/``) and a graph as a Gradio form (``form/``), over one implementation of runs, jobs and files
(``runs.py``, ``sse.py``) with shared auth and request limits.

``build_app`` gives the editor's app for tests and embedding; ``nodeflow ui`` runs
``nodeflow.app.editor.server.serve``.
"""

from .editor.server import BundleMissing, build_app

__all__ = ["build_app", "BundleMissing"]

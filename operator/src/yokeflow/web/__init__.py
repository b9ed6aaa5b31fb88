"""The REST + WebSocket API and the dashboard it serves (FastAPI; composed in :mod:`.app`)."""

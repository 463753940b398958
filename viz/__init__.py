"""The browser page: a Solara page over the Mesa model (entry file: app.py; docs/guide/viz.md)."""

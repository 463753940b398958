"""The browser page: a Mesa SolaraViz page over the model (entry file: app.py)."""

"""The daily report: content (daily.py, pure), charts (charts.py) and rendering (render.py)."""

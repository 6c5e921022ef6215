"""The web app (Sanic): health, a placeholder page; later the widget, the staff console and its API."""

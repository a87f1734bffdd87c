"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from cpa_network.app import create_app

app = create_app()

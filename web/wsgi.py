"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""
from dotenv import load_dotenv

from casework.settings import Settings
from web.app import create_app

load_dotenv()
app = create_app(Settings.from_env())

"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""
from dotenv import load_dotenv

from casework.settings import Settings
from web.app import create_app

load_dotenv()
settings = Settings.from_env()
settings.require_notice_channels()  # never personal data in plain files by accident
app = create_app(settings)

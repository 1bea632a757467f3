"""The worker's entry point: `celery -A workers.main worker -B` (settings from the env/.env)."""
from dotenv import load_dotenv

from casework.settings import Settings
from workers.app import make_celery

load_dotenv()
settings = Settings.from_env()
settings.require_notice_channels()  # never personal data in plain files by accident
settings.keep_files_private()  # the index, the uploads, the notice folder: not world-readable
app = make_celery(settings)

"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""
from dotenv import load_dotenv

from casework.registry.pinyin import keep_out_of_process
from casework.search import segment  # noqa: F401 - jieba-rs's dictionary, loaded once in the master and shared
from casework.settings import Settings
from web.app import create_app

load_dotenv()
settings = Settings.from_env()
settings.require_notice_channels()  # never personal data in plain files by accident
keep_out_of_process()  # pypinyin's dictionaries stay out of the web's workers
app = create_app(settings)

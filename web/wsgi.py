"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`."""
from dotenv import load_dotenv

from casework.registry.pinyin import keep_out_of_process
from casework.search import segment  # noqa: F401 - jieba-rs's dictionary, loaded once in the master and shared
from casework.settings import Settings
from web.app import create_app

load_dotenv()
settings = Settings.from_env()
settings.require_notice_channels()  # never personal data in plain files by accident
settings.keep_files_private()  # the index, the uploads, the database file: not world-readable
keep_out_of_process()  # pypinyin's dictionaries stay out of the web's workers
app = create_app(settings)


def warm_templates(flask_app) -> int:
    """Compile every page template now, in the gunicorn master (the app is preloaded): the
    workers it forks inherit them, where each worker compiled a page on its first request for
    it (the filing form: up to 0.5 s under load). About 1 s at start for the 68 templates."""
    env = flask_app.jinja_env
    names = [n for n in env.list_templates() if n.endswith(".html")]
    for name in names:
        env.get_template(name)
    return len(names)


warm_templates(app)

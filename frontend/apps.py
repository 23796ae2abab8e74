import mimetypes

from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "frontend"
    verbose_name = "Web UI"

    def ready(self) -> None:
        # pdf.js ships ES modules as .mjs; browsers refuse a module script without a JavaScript
        # type, and Python 3.11's table does not know the extension.
        mimetypes.add_type("text/javascript", ".mjs")

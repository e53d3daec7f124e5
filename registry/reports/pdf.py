"""The annual report as PDF, when WeasyPrint and its Pango libraries are installed.

The page is the printable report itself, so the PDF and the printed page agree.
WeasyPrint fetches the stylesheets the page links to; here it reads them from
the static folder and fetches nothing else, since government networks may be
offline and a report has no business reaching out.
"""
import functools
import logging
import mimetypes
import os
from urllib.parse import urlsplit

from flask import current_app

log = logging.getLogger(__name__)


@functools.cache
def available() -> bool:
    """Tell whether PDF can be written here (WeasyPrint needs Pango at import)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        log.info("PDF reports are off: WeasyPrint cannot be loaded (%s)", error)
        return False
    return True


def from_html(html: str, base_url: str) -> bytes:
    """Return html, a page of this app, as PDF bytes."""
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFiles(URLFetcher):
        def fetch(self, url, headers=None):
            content, mime_type = _static_file(url)
            return URLFetcherResponse(url, content, {"Content-Type": mime_type})

    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=StaticFiles())
    return document.write_pdf()


def _static_file(url: str) -> tuple[bytes, str]:
    path = urlsplit(url).path
    static = current_app.static_url_path.rstrip("/") + "/"
    if not path.startswith(static):
        raise ValueError(f"the report fetches only the app's static files, not {url}")
    folder = os.path.realpath(current_app.static_folder)
    file_path = os.path.realpath(os.path.join(folder, path[len(static):]))
    if not file_path.startswith(folder + os.sep):
        raise ValueError(f"outside the static folder: {url}")
    with open(file_path, "rb") as static_file:
        content = static_file.read()
    return content, mimetypes.guess_type(file_path)[0] or "application/octet-stream"

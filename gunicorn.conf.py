"""Gunicorn settings for production: `gunicorn wsgi:app` reads this file."""
import multiprocessing

bind = "127.0.0.1:8000"
workers = min(4, multiprocessing.cpu_count() * 2)
timeout = 60
accesslog = "-"
# The path without its query string: searches carry names and phone numbers,
# and the access log must not collect personal data.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'

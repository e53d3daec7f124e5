"""Settings read from the environment, with safe defaults for development."""
import os
from datetime import timedelta


class Config:
    ENV_NAME = os.environ.get("REGISTRY_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # A relative SQLite path is resolved inside the instance folder by create_app.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL")

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    WTF_CSRF_ENABLED = True
    WTF_I18N_ENABLED = False  # registry.core.forms.Form translates the messages itself
    WTF_CSRF_TIME_LIMIT = None  # the session's own lifetime bounds the token
    MAX_CONTENT_LENGTH = 55 * 1024 * 1024

    LOGIN_MAX_FAILURES = 10
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    LOGIN_RATE_LIMIT = "20 per minute; 200 per hour"
    # How many reverse proxies stand in front of the app (for the client address).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    RATELIMIT_DEFAULT = "600 per minute"
    RATELIMIT_HEADERS_ENABLED = True

    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")  # smtp, console, file, memory
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "registry@songoaivu.thanhhoa.example")
    MAIL_FROM_NAME = os.environ.get("MAIL_FROM_NAME", "So Ngoai vu Thanh Hoa")
    # The public address of the registry, for links in e-mails sent by workers.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    JOBS_IMMEDIATE = False  # run background jobs in the calling process (tests)

    # Outreach campaigns: a campaign-wide rate (0 for none), how long a sender holds a
    # claimed batch and its campaign, retries with backoff of base × 4^n seconds up to a
    # cap of attempts, and the share of failures among recent attempts that pauses it.
    OUTREACH_RATE_PER_SECOND = float(os.environ.get("OUTREACH_RATE_PER_SECOND", "20"))
    OUTREACH_BATCH_SIZE = int(os.environ.get("OUTREACH_BATCH_SIZE", "50"))
    OUTREACH_LEASE_SECONDS = int(os.environ.get("OUTREACH_LEASE_SECONDS", "120"))
    OUTREACH_WAIT_SECONDS = int(os.environ.get("OUTREACH_WAIT_SECONDS", "60"))
    OUTREACH_MAX_ATTEMPTS = int(os.environ.get("OUTREACH_MAX_ATTEMPTS", "5"))
    OUTREACH_RETRY_BASE_SECONDS = int(os.environ.get("OUTREACH_RETRY_BASE_SECONDS", "60"))
    OUTREACH_PAUSE_ERROR_RATE = float(os.environ.get("OUTREACH_PAUSE_ERROR_RATE", "0.5"))
    OUTREACH_PAUSE_WINDOW = 100
    OUTREACH_PAUSE_MIN_ATTEMPTS = 20
    OUTREACH_LOCAL_MORNING_HOUR = 9

    PAGE_SIZE = 50
    # Duplicates: merge without an officer only pairs scored above the threshold
    # that also share a national id, a passport or an e-mail. Off unless set.
    MATCH_AUTO_MERGE = os.environ.get("MATCH_AUTO_MERGE", "") == "1"
    MATCH_AUTO_MERGE_THRESHOLD = float(os.environ.get("MATCH_AUTO_MERGE_THRESHOLD", "0.999"))
    DEVELOPMENT_TOOLS = False  # commands such as `registry totp-code`
    TOTP_ISSUER = "So Ngoai vu Thanh Hoa"

    @classmethod
    def from_environment(cls) -> dict:
        """Return the settings as a dict, chosen by REGISTRY_ENV."""
        chosen = {"development": DevelopmentConfig, "testing": TestingConfig}.get(
            cls.ENV_NAME, Config
        )
        return {key: getattr(chosen, key) for key in dir(chosen) if key.isupper()}


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "development-only-not-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    DEVELOPMENT_TOOLS = True
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    PASSWORD_HASH_FAST = True
    MAIL_BACKEND = "memory"
    JOBS_IMMEDIATE = True
    OUTREACH_RATE_PER_SECOND = 0.0
    OUTREACH_WAIT_SECONDS = 0

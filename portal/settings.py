"""NetBranch settings, read only from the environment (12-factor).

With nothing set this is a safe local setup: SQLite in the project folder, Celery tasks run
eagerly in-process, a local-memory cache and e-mail printed on the console. Every variable is
documented in `.env.example` and in the README's table.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer may keep their variables in .env; the real environment always wins.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list(
        "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
else:
    # Production refuses to start half-configured.
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if not SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_DEBUG=0 needs DJANGO_SECRET_KEY.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_DEBUG=0 needs DJANGO_ALLOWED_HOSTS.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------
DJANGO_APPS = [
    "portal.apps.NetBranchAdminConfig",  # django.contrib.admin with the scoped admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_ckeditor_5",
    "django_htmx",
    "treebeard",
    "csp",
]
LOCAL_APPS = [
    "core",
    "branches",
    "notifications",
    "members",
    "discussions",
    "lessons",
    "meetings",
    "welfare",
    "decisions",
    "reports",
    "portal",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database and cache
# ---------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault(
    "CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0 if DEBUG else 60)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("DJANGO_CACHE_PREFIX", default="netbranch"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ---------------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
    # Model permissions come from role assignments (branches.roles), not from groups.
    "branches.backends.RolePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # accounts are created by secretaries, imports, invitations
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, kept explicit: bad passwords lock an account and an address out.
    "login_failed": env("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="NetBranch")
# With DJANGO_STAFF_REQUIRE_MFA=1 a staff user sets up TOTP before the admin opens.
STAFF_REQUIRE_MFA = env.bool("DJANGO_STAFF_REQUIRE_MFA", default=False)

# ---------------------------------------------------------------------------------------------
# Internationalisation: Chinese first, English complete
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Static and media files
# ---------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Django serves uploads itself unless a web server in front does (DJANGO_SERVE_MEDIA=0).
NETBRANCH_SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# whitenoise
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Upload limits (core.uploads). Django refuses bodies above DATA_UPLOAD_MAX_MEMORY_SIZE for
# non-file fields; file sizes are checked per kind below.
NETBRANCH_MAX_IMAGE_BYTES = env.int("NETBRANCH_MAX_IMAGE_BYTES", default=8 * 1024 * 1024)
NETBRANCH_MAX_DOCUMENT_BYTES = env.int("NETBRANCH_MAX_DOCUMENT_BYTES", default=20 * 1024 * 1024)
NETBRANCH_MAX_IMAGE_PIXELS = env.int("NETBRANCH_MAX_IMAGE_PIXELS", default=40_000_000)
NETBRANCH_MAX_VIDEO_BYTES = env.int("NETBRANCH_MAX_VIDEO_BYTES", default=200 * 1024 * 1024)
# Sites a video lesson may link to instead of an uploaded file.
NETBRANCH_VIDEO_HOSTS = env.list(
    "NETBRANCH_VIDEO_HOSTS",
    default=["www.12371.cn", "v.qq.com", "www.bilibili.com", "player.bilibili.com"],
)
# Widths of the resized renditions made for phones and for full-width display.
NETBRANCH_RENDITION_WIDTHS = (480, 1080)
FILE_UPLOAD_PERMISSIONS = 0o644

# django-ckeditor-5: uploads go through core's checks, staff only.
CK_EDITOR_5_UPLOAD_FILE_VIEW_NAME = "core:ckeditor_upload"
CKEDITOR_5_FILE_UPLOAD_PERMISSION = "staff"
CKEDITOR_5_CONFIGS = {
    "default": {
        "language": "zh-cn",
        "toolbar": {
            "items": [
                "heading",
                "|",
                "bold",
                "italic",
                "link",
                "bulletedList",
                "numberedList",
                "blockQuote",
                "|",
                "imageUpload",
                "insertTable",
                "|",
                "undo",
                "redo",
            ],
        },
        "image": {
            "toolbar": ["imageTextAlternative", "|", "imageStyle:alignLeft", "imageStyle:full"]
        },
        "table": {"contentToolbar": ["tableColumn", "tableRow", "mergeTableCells"]},
        "heading": {
            "options": [
                {"model": "paragraph", "title": "Paragraph", "class": "ck-heading_paragraph"},
                {
                    "model": "heading2",
                    "view": "h2",
                    "title": "Heading 2",
                    "class": "ck-heading_heading2",
                },
                {
                    "model": "heading3",
                    "view": "h3",
                    "title": "Heading 3",
                    "class": "ck-heading_heading3",
                },
            ]
        },
    },
}

# ---------------------------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="NetBranch <noreply@netbranch.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------------------------------------
# Celery: Redis as broker; with no REDIS_URL tasks run eagerly in-process.
# ---------------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task published while the broker is down fails fast; the caller's sweep re-sends it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# ---------------------------------------------------------------------------------------------
# Security. Production (DJANGO_DEBUG=0) turns on secure cookies, HSTS and the SSL redirect;
# the Content Security Policy is on everywhere, so that development meets it too.
# ---------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

# django-csp
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # CKEditor 5 in the admin sets inline styles on its own elements.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        # The service worker (/sw.js) and the web app manifest (portal.offline).
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "media-src": ["'self'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}

# ---------------------------------------------------------------------------------------------
# NetBranch
# ---------------------------------------------------------------------------------------------
NETBRANCH_PAGE_SIZE = env.int("NETBRANCH_PAGE_SIZE", default=20)
# Study: reading speed for the reading time (Chinese characters and Latin words per minute,
# seconds per picture), points per finished lesson and per passed check, and how many days
# before a plan's due date the reminder goes out.
NETBRANCH_READING_CJK_PER_MINUTE = env.int("NETBRANCH_READING_CJK_PER_MINUTE", default=300)
NETBRANCH_READING_WORDS_PER_MINUTE = env.int("NETBRANCH_READING_WORDS_PER_MINUTE", default=200)
NETBRANCH_READING_SECONDS_PER_IMAGE = env.int("NETBRANCH_READING_SECONDS_PER_IMAGE", default=12)
NETBRANCH_POINTS_FINISHED = env.int("NETBRANCH_POINTS_FINISHED", default=2)
NETBRANCH_POINTS_CHECK = env.int("NETBRANCH_POINTS_CHECK", default=3)
NETBRANCH_PLAN_REMINDER_DAYS = env.int("NETBRANCH_PLAN_REMINDER_DAYS", default=3)
# Meetings: the sign-in window around the start (minutes before and after) and how long a
# sign-in QR code lasts (the previous code is also accepted, an older one refused).
NETBRANCH_SIGN_IN_OPENS_MINUTES = env.int("NETBRANCH_SIGN_IN_OPENS_MINUTES", default=30)
NETBRANCH_SIGN_IN_CLOSES_MINUTES = env.int("NETBRANCH_SIGN_IN_CLOSES_MINUTES", default=120)
NETBRANCH_SIGN_IN_CODE_SECONDS = env.int("NETBRANCH_SIGN_IN_CODE_SECONDS", default=30)
# The required cadence of meetings (三会一课) per organisation kind: meeting kind -> "month" or
# "quarter" (calendar periods in TIME_ZONE). A committee meeting is required only of an
# organisation that has a committee (a secretary, deputy or committee member). Periods are
# checked for the organisations of these kinds; the secretary is warned this many days before a
# period ends without a required meeting.
NETBRANCH_MEETING_CADENCE = {
    "branch": {
        "general_meeting": "quarter",
        "party_lesson": "quarter",
        "committee_meeting": "month",
        "themed_day": "month",
    },
    "joint_branch": {
        "general_meeting": "quarter",
        "party_lesson": "quarter",
        "committee_meeting": "month",
        "themed_day": "month",
    },
    "mobile_branch": {
        "general_meeting": "quarter",
        "party_lesson": "quarter",
        "committee_meeting": "month",
        "themed_day": "month",
    },
    "group": {"group_meeting": "month"},
}
NETBRANCH_CADENCE_WARN_DAYS = env.int("NETBRANCH_CADENCE_WARN_DAYS", default=7)
# Welfare: a pairing help case without a follow-up visit for this many days reminds its paired
# members, and after each further period the branch's secretary (once per period).
NETBRANCH_WELFARE_FOLLOW_UP_DAYS = env.int("NETBRANCH_WELFARE_FOLLOW_UP_DAYS", default=60)
# Decisions: the voting window a new motion gets by default in the admin (days).
NETBRANCH_VOTE_DAYS = env.int("NETBRANCH_VOTE_DAYS", default=7)
# Members: a transfer still waiting after this many days is flagged overdue.
NETBRANCH_TRANSFER_OVERDUE_DAYS = env.int("NETBRANCH_TRANSFER_OVERDUE_DAYS", default=30)
# Members: an invitation link (by e-mail or handed over) works once, for this many days.
NETBRANCH_INVITATION_DAYS = env.int("NETBRANCH_INVITATION_DAYS", default=14)
# Members: the daily radar calls a member "at risk" after this many days without taking part
# (studying, attending, posting, serving) and "lost contact" after the second number when they
# have not logged in either ("invisible" when they still log in).
NETBRANCH_CONTACT_AT_RISK_DAYS = env.int("NETBRANCH_CONTACT_AT_RISK_DAYS", default=30)
NETBRANCH_CONTACT_LOST_DAYS = env.int("NETBRANCH_CONTACT_LOST_DAYS", default=90)

# Committee review (reports): a period's activity report is due this many days after the period
# ends; a reminder goes this many days before; a branch with no recorded activity of any kind
# for NETBRANCH_SILENT_DAYS is "silent" on the dashboard.
NETBRANCH_REPORT_DUE_DAYS = env.int("NETBRANCH_REPORT_DUE_DAYS", default=10)
NETBRANCH_REPORT_REMIND_DAYS = env.int("NETBRANCH_REPORT_REMIND_DAYS", default=5)
# Which periods branches report on: a quarterly report and a yearly one (the common practice;
# add "month" for monthly reports). Reporting kinds: reports.selectors.figures.REPORTING_KINDS.
NETBRANCH_REPORT_PERIODS = env.list("NETBRANCH_REPORT_PERIODS", default=["quarter", "year"])
NETBRANCH_SILENT_DAYS = env.int("NETBRANCH_SILENT_DAYS", default=30)
# Five-star branch rating (五星党支部, reports.services.rating, shown on /reports/rating/): the
# points of each criterion (each scored 0..1 from the year's figures), summing to 100, and the
# least score for 5, 4, 3 and 2 stars (below the last: 1 star).
NETBRANCH_RATING_WEIGHTS = {
    "meetings": 20,
    "attendance": 15,
    "study": 15,
    "reflections": 10,
    "welfare": 10,
    "decisions": 10,
    "board": 5,
    "contact": 10,
    "reports": 5,
}
NETBRANCH_RATING_STARS = [90, 75, 60, 40]
# Discussions: characters in a comment and in a board post or answer; comments and posts one
# person may write per period ("N/seconds").
NETBRANCH_COMMENT_MAX_LENGTH = env.int("NETBRANCH_COMMENT_MAX_LENGTH", default=1000)
NETBRANCH_BOARD_POST_MAX_LENGTH = env.int("NETBRANCH_BOARD_POST_MAX_LENGTH", default=2000)
NETBRANCH_POST_RATE = env("NETBRANCH_POST_RATE", default="5/60")
# Absolute links in e-mail.
NETBRANCH_BASE_URL = env("NETBRANCH_BASE_URL", default="http://127.0.0.1:8000")
# Fan-out: rows per INSERT ... SELECT, an optional pause between chunks to spare the database,
# and how long an enqueued fan-out may take before the sweep enqueues it again.
NETBRANCH_FANOUT_CHUNK = env.int("NETBRANCH_FANOUT_CHUNK", default=5000)
NETBRANCH_FANOUT_CHUNK_PAUSE = env.float("NETBRANCH_FANOUT_CHUNK_PAUSE", default=0.0)
NETBRANCH_FANOUT_GRACE_SECONDS = env.int("NETBRANCH_FANOUT_GRACE_SECONDS", default=120)
NETBRANCH_FANOUT_MAX_ATTEMPTS = env.int("NETBRANCH_FANOUT_MAX_ATTEMPTS", default=10)
# Immediate e-mails sent per task run (the task re-enqueues itself for the rest).
NETBRANCH_EMAIL_BATCH = env.int("NETBRANCH_EMAIL_BATCH", default=500)
# First wait (seconds) before retrying mail after an SMTP failure; it doubles up to 10 minutes.
NETBRANCH_EMAIL_RETRY_BACKOFF = env.int("NETBRANCH_EMAIL_RETRY_BACKOFF", default=5)
# After this long the sweep takes over mail a task could not send (its retries last about an hour).
NETBRANCH_EMAIL_SWEEP_AFTER_SECONDS = env.int(
    "NETBRANCH_EMAIL_SWEEP_AFTER_SECONDS", default=2 * 60 * 60
)
NETBRANCH_SITE_NAME = _("NetBranch")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Eager tasks (no REDIS_URL) would log every run; workers keep Celery's own logging.
        "celery.app.trace": {"level": "WARNING" if not REDIS_URL else "INFO"},
        # WeasyPrint (paper packs) logs every layout step at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

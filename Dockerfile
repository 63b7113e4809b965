# NetBranch: one image for web (gunicorn), worker (celery worker) and beat (celery beat).
# docker-compose.yml runs them together with PostgreSQL and Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    DJANGO_MEDIA_ROOT=/app/media

WORKDIR /app

# gettext: msgfmt for compilemessages. psycopg2-binary and pillow come as wheels, so no compiler.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

# The project is not an installable package (packages = []): install its pinned runtime
# dependencies, read from pyproject.toml, in a layer that only changes when they do.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# An unprivileged user with a home (gunicorn keeps its control socket under ~/.gunicorn).
RUN groupadd --system --gid 10001 netbranch \
    && useradd --system --uid 10001 --gid netbranch --create-home --home-dir /home/netbranch \
        --shell /usr/sbin/nologin netbranch

COPY . .

# Build-time only settings: production storage (hashed, compressed static files), a throwaway
# key that never reaches the running containers.
RUN export DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only-not-secret DJANGO_ALLOWED_HOSTS=localhost \
    && if find locale -name '*.po' 2>/dev/null | grep -q .; then python manage.py compilemessages; fi \
    && python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown netbranch:netbranch /app/media

USER netbranch:netbranch

EXPOSE 8000

# WEB_CONCURRENCY (gunicorn's worker count) and GUNICORN_CMD_ARGS tune it from the environment.
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-", "--timeout", "60"]

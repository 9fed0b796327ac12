# Webcare Monitor: one image for `webcare serve` (web) and `webcare worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEBCARE_DATA_DIR=/data

# A fixed unprivileged uid, so volume ownership is predictable across rebuilds.
RUN useradd --system --uid 10001 --user-group --home-dir /srv/webcare --shell /usr/sbin/nologin webcare \
 && mkdir -p /data \
 && chown webcare:webcare /data

WORKDIR /srv/webcare

# Dependencies first, read from pyproject.toml: code changes then reuse this cached layer.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Only what the service needs: no .venv, databases, secret_key or webcare.toml from a
# developer's checkout end up in the image. An editable install keeps templates/ and
# static/ next to app/, where the app looks for them.
COPY app ./app
COPY connectors ./connectors
COPY templates ./templates
COPY static ./static
RUN pip install --no-deps -e .

USER webcare
VOLUME /data
EXPOSE 8000

# slim has no curl; urlopen raises (exit 1) on a refused connection or a non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["webcare", "serve", "--host", "0.0.0.0", "--port", "8000"]

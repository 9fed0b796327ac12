# Webcare Monitor: one image for `webcare serve` (web) and `webcare worker`.
#
# The build stage turns the source into a wheel; the image installs that wheel like any other
# package (not editable). Templates, static files, translations and data files ship inside the
# package, so the image holds no source tree.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# Only what the wheel is built from: no .venv, databases, secret_key or webcare.toml from a
# developer's checkout.
COPY pyproject.toml README.md ./
COPY app ./app
COPY connectors ./connectors
COPY templates ./templates
COPY static ./static
RUN pip wheel --no-deps --wheel-dir /wheels .


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
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt /tmp/pyproject.toml

# Without --no-deps: pip checks the wheel's requirements against the layer above.
COPY --from=build /wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl \
 && rm -rf /tmp/wheels

USER webcare
VOLUME /data
EXPOSE 8000

# slim has no curl; urlopen raises (exit 1) on a refused connection or a non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["webcare", "serve", "--host", "0.0.0.0", "--port", "8000"]

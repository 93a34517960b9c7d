# Premier Recours service image: slim Python, non-root, `serve` as entrypoint.
# deploy/compose.yaml runs it as `migrate`, `serve --workers 2 --no-worker` and `worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /srv/premier-recours
COPY pyproject.toml README.md ./
COPY app ./app
COPY scheduler ./scheduler
COPY telephony ./telephony
COPY migrations ./migrations
RUN pip install . && useradd --system --create-home --uid 10001 premier \
    && mkdir -p /var/lib/premier-recours && chown premier /var/lib/premier-recours

USER premier
# Production by default: no SQLite fallback. The service refuses to start without
# DATABASE_URL and SECRET_KEY; every variable is listed in deploy/README.md. A quick local
# try-out: -e ENVIRONMENT=development -e DATABASE_URL=sqlite:////var/lib/premier-recours/pr.db
ENV ENVIRONMENT=production \
    LOG_FORMAT=json
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
ENTRYPOINT ["premier-recours"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

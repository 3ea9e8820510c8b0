# Production image: `fedi serve` against an external PostgreSQL (DATABASE_URL).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY activitypub ./activitypub
COPY storage ./storage
COPY fedi ./fedi
RUN pip install . && useradd --create-home --uid 10001 fedi
USER fedi
EXPOSE 8000
ENV FEDI_DEMO=0
CMD ["fedi", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

# Pango (and its font stack) for WeasyPrint, which renders the PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 tally \
    && mkdir -p /app/data && chown tally /app/data
USER tally

EXPOSE 8000
# `serve` applies migrations first; on an empty database it prints the default API key.
CMD ["tally", "serve", "--host", "0.0.0.0", "--port", "8000"]

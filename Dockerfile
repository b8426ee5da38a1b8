# The classroom app on a CPU-only server: docker build -t cnn-classroom . && docker run -p 8501:8501 cnn-classroom
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# torch and torchvision from PyTorch's CPU index first: the same versions without the ~3 GB of CUDA
# libraries the PyPI wheels pull in; requirements.txt then finds them already satisfied.
# nginx: for several app processes behind one port (python -m deploy.serve), see docs/deploy.md.
RUN apt-get update && apt-get install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1 \
    && pip install -r requirements.txt

COPY . .
# Decompress MNIST into its .npy cache once, at build time, and run as an unprivileged user.
RUN python -c "from lib.data import load_split; load_split('train'); load_split('test')" \
    && useradd --create-home --uid 1000 app \
    && mkdir -p /data && chown -R app /app /data
USER app
# Students' work (SQLite) lives outside the image: mount a volume here (docker run -v classroom:/data …), or
# set CLASSROOM_DB_URL to a PostgreSQL URL (docs/workspace.md).
ENV CLASSROOM_DATA_DIR=/data
VOLUME /data

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"
CMD ["streamlit", "run", "streamlit_app.py", "--server.port=8501", "--server.address=0.0.0.0"]

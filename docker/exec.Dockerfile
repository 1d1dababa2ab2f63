# The default exec image: where a session's shells run on a cluster. Python 3.11 and common
# tools; the workspace volume is mounted at /app; runs as an unprivileged user.
#   docker build -f docker/exec.Dockerfile -t webide/exec-python .
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
        bash coreutils findutils tar git curl less nano vim-tiny procps build-essential \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir pytest requests numpy \
    && useradd --uid 1000 --create-home --shell /bin/bash user \
    && mkdir -p /app && chown user:user /app
COPY server/src/runner/bashrc.sh /opt/webide/bashrc
ENV TERM=xterm-256color LANG=C.UTF-8 HOME=/home/user
USER 1000
WORKDIR /app
CMD ["sleep", "infinity"]

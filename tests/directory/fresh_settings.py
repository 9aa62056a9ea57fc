"""The settings as a fresh interpreter reads them, with only the given variables of the site's own set."""

import json
import os
import subprocess
import sys

from django.conf import settings

OURS = ("DJANGO_", "DATABASE_", "REDIS_", "CACHE_")


def run(code, **environment):
    """Run ``code`` in a fresh interpreter with exactly ``environment`` of the site's variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(OURS)}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False
    )


def read(expression, **environment):
    """``expression``, over the settings module as ``s``, read through JSON."""
    result = run(f"import json, directory.settings as s; print(json.dumps({expression}))", **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)

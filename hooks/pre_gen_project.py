"""Refuse answers that would bake a broken project, before any file is written."""

import re
import sys
import zoneinfo

# Jinja fills these in; tojson makes any answer a valid Python string literal.
# SLUG_PROBLEM says what is wrong with the slug, if anything (hooks/project_slug.py).
SLUG_PROBLEM = {{ cookiecutter.project_slug | slug_problem | tojson }}
EMAIL = {{ cookiecutter.email | tojson }}
DOMAIN_NAME = {{ cookiecutter.domain_name | tojson }}
TIMEZONE = {{ cookiecutter.timezone | tojson }}
CHANNEL_LAYER = {{ cookiecutter.channel_layer | tojson }}
USE_THUMBNAILS = {{ cookiecutter.use_thumbnails }}

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DOMAIN_LABEL_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def is_domain_name(name):
    """A bare host name with at least two labels, such as example.com."""
    labels = name.lower().split(".")
    return (
        len(name) <= 253
        and len(labels) >= 2
        and all(DOMAIN_LABEL_RE.fullmatch(label) for label in labels)
        and labels[-1].isalpha()
    )


def problems():
    """Yield one sentence per bad answer, naming the problem and the fix."""
    if SLUG_PROBLEM:
        yield SLUG_PROBLEM
    if not EMAIL_RE.fullmatch(EMAIL):
        yield f"email {EMAIL!r} is not an email address: give one like 'you@example.com'."
    if not is_domain_name(DOMAIN_NAME):
        yield (
            f"domain_name {DOMAIN_NAME!r} is not a domain name: give a bare host name "
            "such as 'example.com', without scheme, port or path."
        )
    try:
        zoneinfo.ZoneInfo(TIMEZONE)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        yield f"timezone {TIMEZONE!r} is not a known time zone: give an IANA name such as 'Europe/Paris' or 'UTC'."
    if CHANNEL_LAYER == "in_memory" and USE_THUMBNAILS:
        yield (
            "channel_layer 'in_memory' cannot carry jobs to the thumbnail worker, which runs "
            "in a process of its own: choose 'redis_pubsub' or 'redis', or answer no to use_thumbnails."
        )


def main():
    found = list(problems())
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

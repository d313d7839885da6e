"""The project slug: its default, made from the project name, and why an answer is refused.

cookiecutter loads this module as a local Jinja extension (cookiecutter.json,
"_extensions"), with the template's directory on sys.path: cookiecutter.json makes
the default slug with the default_slug filter, and the pre-generation hook reports
slug_problem() of the answer, so both follow the rules written here once.
"""

import keyword
import re
import sys
import unicodedata

from jinja2.ext import Extension

# Modules a generated project imports, and its own apps: a project package with one
# of these names would hide the real module.
SHADOWED_MODULES = {
    "asgiref",
    "channels",
    "channels_redis",
    "chat",
    "daphne",
    "django",
    "environ",
    "msgpack",
    "notifications",
    "pil",
    "psycopg",
    "pytest",
    "realtime",
    "redis",
    "test",
    "thumbnails",
    "twisted",
} | set(sys.stdlib_module_names)

SLUG_RE = re.compile(r"[a-z_][a-z0-9_]*")


def default_slug(name):
    """A valid slug for any project name: "Café Chat" gives cafe_chat, "Chat" chat_site."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "project"
    if slug[0].isdigit():
        slug = f"project_{slug}"
    if keyword.iskeyword(slug) or slug in SHADOWED_MODULES:
        slug = f"{slug}_site"
    return slug


def slug_problem(slug):
    """One sentence naming what is wrong with slug and the fix, or "" if nothing is."""
    if not SLUG_RE.fullmatch(slug):
        return (
            f"project_slug {slug!r} is not a lowercase Python identifier: "
            "use lowercase letters, digits and underscores, not starting with a digit "
            "(for example 'my_site')."
        )
    if keyword.iskeyword(slug):
        return (
            f"project_slug {slug!r} is a Python keyword: "
            f"choose another name, such as '{slug}_site'."
        )
    if slug in SHADOWED_MODULES:
        return (
            f"project_slug {slug!r} would shadow the module of the same name "
            f"that the project imports: choose another name, such as '{slug}_site'."
        )
    return ""


class ProjectSlugExtension(Extension):
    """Jinja filters default_slug and slug_problem."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["default_slug"] = default_slug
        environment.filters["slug_problem"] = slug_problem

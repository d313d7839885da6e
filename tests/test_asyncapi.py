"""The default bake's protocol document, against the AsyncAPI 3.0.0 JSON Schema.

The schema comes from the @asyncapi/specs package on the npm registry (`npm pack`,
once, into .cache/).
"""

import json
import subprocess
import tarfile

import jsonschema
import pytest

from bakery import TEMPLATE_DIR

SPECS = "@asyncapi/specs@6.11.1"
SCHEMA_MEMBER = "package/schemas/3.0.0-without-$id.json"


@pytest.fixture(scope="session")
def asyncapi_schema():
    cache = TEMPLATE_DIR / ".cache" / "asyncapi-specs"
    schema = cache / "3.0.0.json"
    if not schema.exists():
        cache.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            ["npm", "pack", SPECS, "--pack-destination", str(cache), "--silent"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        with tarfile.open(cache / packed) as archive:
            schema.write_bytes(archive.extractfile(SCHEMA_MEMBER).read())
    return json.loads(schema.read_text())


def test_the_default_bakes_protocol_document_is_valid_asyncapi(baked, project_env, asyncapi_schema):
    project = baked()
    output = subprocess.run(
        ["python", "manage.py", "asyncapi"],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    document = json.loads(output)

    jsonschema.Draft7Validator(asyncapi_schema).validate(document)
    chat = document["channels"]["chat.room"]
    assert chat["address"] == "/ws/chat/{room_name}/"
    assert set(chat["messages"]) == {
        "client-authenticate",
        "client-message",
        "server-authenticated",
        "server-history",
        "server-users",
        "server-message",
        "server-presence",
        "server-error",
    }
    assert document["channels"]["realtime.ticket"]["address"] == "/realtime/ticket/"
    assert {"Post", "Posted", "History", "Users", "Presence", "ErrorFrame", "Ticket"} <= set(
        document["components"]["schemas"]
    )

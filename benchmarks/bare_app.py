"""The baseline of case 5: a bare Flask app answering ``GET /api/v1/tags/<id>`` with a JSON
object like the real one (no database, no authentication, no validation), served by
gunicorn with the same settings as the real app."""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, jsonify

app = Flask(__name__)
SAMPLE: dict[str, Any] = json.loads(os.environ.get("BARE_TAG_JSON", "{}"))


@app.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})


@app.get("/api/v1/tags/<tag_id>")
def tag(tag_id: str) -> Any:
    return jsonify({**SAMPLE, "key": int(tag_id) if tag_id.isdigit() else tag_id})

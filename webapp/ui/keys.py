"""(being written)"""

from flask import Blueprint

keys = Blueprint("keys", __name__)

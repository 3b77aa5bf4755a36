"""(being written)"""

from flask import Blueprint

scopes = Blueprint("scopes", __name__)

"""The web admin's Flask extensions (initialised in :func:`webapp.ui.register_ui`)."""

from flask_login import LoginManager
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()

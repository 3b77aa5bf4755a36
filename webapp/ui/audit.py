"""(being written)"""

from webapp.ui.scoping import scoped_blueprint

audit = scoped_blueprint("audit", __name__)
